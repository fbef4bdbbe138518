// Issue 6's scenario through the generated TypeScript client only (@hey-api/openapi-ts), run by
// Node after `tsc`. Usage: node target/contract/ts-dist/scenario.js BASE_URL
import { createClient, createConfig } from './client/client';
import {
  createPost, createProject, downloadFile, getMe, listFiles, uploadFile, getProject, listCreatorPosts, listMembers, listProjectPosts, listProjects,
  login, putMember, refresh, register, updatePost, updateProject,
} from './client/sdk.gen';
import type { Problem } from './client/types.gen';
import { randomUUID } from 'node:crypto';

const base = process.argv[2];
const suffix = Math.random().toString(16).slice(2, 10);
const password = 'correct horse battery';

function fail(message: string): never {
  throw new Error(`typescript scenario: ${message}`);
}

/** The call answered `status` with a body. */
function ok<T>(result: { data?: T; error?: unknown; response?: Response }, status: number): T {
  if (result.response?.status !== status || result.data === undefined) {
    fail(`expected ${status}, got ${result.response?.status}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

/** The call answered `status` with the problem `code`. */
function problem(result: { error?: unknown; response?: Response }, status: number, code: string): Problem {
  const error = result.error as Problem | undefined;
  if (result.response?.status !== status || error?.code !== code) {
    fail(`expected problem ${status} ${code}, got ${result.response?.status} ${JSON.stringify(error)}`);
  }
  if (error.request_id !== result.response.headers.get('x-request-id')) fail('request_id differs from X-Request-Id');
  return error;
}

/** A fresh Idempotency-Key: every POST of this scenario sends one, as a careful client does. */
const keyed = (key: string = randomUUID()) => ({ 'Idempotency-Key': key });

const anonymous = createClient(createConfig({ baseUrl: base }));
const as = (token: string) => createClient(createConfig({ baseUrl: base, auth: () => token }));

async function person(name: string) {
  const username = `${name}_${suffix}`;
  const user = ok(await register({
    client: anonymous,
    body: { email: `${username}@example.com`, username, password, first_name: name, last_name: 'TypeScript' },
    headers: keyed(),
  }), 201);
  const tokens = ok(await login({ client: anonymous, body: { login: username, password }, headers: keyed() }), 200);
  return { user, tokens };
}

async function main() {
const ada = await person('ada');
const bob = await person('bob');
problem(await register({
  client: anonymous,
  body: { email: `x${suffix}@example.com`, username: ada.user.username, password, first_name: 'A', last_name: 'B' },
  headers: keyed(),
}), 409, 'username_taken');

const renewed = ok(await refresh({
  client: anonymous, body: { refresh_token: ada.tokens.refresh_token }, headers: keyed(),
}), 200);
if (renewed.refresh_token === ada.tokens.refresh_token) fail('refresh did not rotate');
const asAda = as(renewed.access_token);
const asBob = as(bob.tokens.access_token);
if (ok(await getMe({ client: asAda }), 200).id !== ada.user.id) fail('get_me is someone else');

const project = ok(await createProject({
  client: asAda, body: { name: 'Apollo', description: 'Moon' }, headers: keyed(),
}), 201);
if (project.my_role !== 'owner') fail('the creator is not the owner');
const member = ok(await putMember({
  client: asAda, path: { project_id: project.id, user_id: bob.user.id }, body: { role: 'editor' },
}), 201);
if (member.role !== 'editor') fail('bob is not an editor');

const posts = [];
for (let i = 0; i < 5; i++) {
  posts.push(ok(await createPost({
    client: asBob, path: { project_id: project.id }, body: { title: `Note ${i}`, body: 'Text.' }, headers: keyed(),
  }), 201));
}
const published = ok(await updatePost({
  client: asBob, path: { post_id: posts[0].id }, body: { status: 'published' }, headers: { 'If-Match': '"1"' },
}), 200);
if (published.published_at == null) fail('published_at was not set');

const seen: string[] = [];
let cursor: string | undefined;
for (;;) {
  const page = ok(await listProjectPosts({ client: asAda, path: { project_id: project.id }, query: { limit: 2, cursor } }), 200);
  seen.push(...page.items.map((p) => p.id));
  if (page.next_cursor == null) break;
  cursor = page.next_cursor;
}
if (seen.length !== 5 || new Set(seen).size !== 5) fail(`the walk saw ${JSON.stringify(seen)}`);
const members = ok(await listMembers({ client: asBob, path: { project_id: project.id }, query: { limit: 1 } }), 200);
if (members.items.length !== 1 || members.next_cursor == null) fail('members did not page');
const projects = ok(await listProjects({ client: asBob }), 200);
if (projects.items.length !== 1 || projects.items[0].id !== project.id) fail('bob does not see the project');
const byBob = ok(await listCreatorPosts({ client: asAda, path: { creator_id: bob.user.id }, query: { limit: 20 } }), 200);
if (byBob.items.length !== 5 || byBob.items.some((p) => p.creator.id !== bob.user.id)) fail('creator posts');

problem(await getProject({ client: asAda, path: { project_id: '01937000-0000-7000-8000-000000000000' } }), 404, 'project_not_found');
problem(await updateProject({
  client: asAda, path: { project_id: project.id }, body: { name: 'Stale' }, headers: { 'If-Match': '"9"' },
}), 412, 'version_mismatch');
const invalid = problem(await createProject({
  client: asAda, body: { name: '   ' }, headers: keyed(),
}), 422, 'validation_failed');
if (invalid.errors?.[0]?.field !== 'name') fail('the invalid field is not named');
problem(await listProjectPosts({ client: asAda, path: { project_id: project.id }, query: { cursor: 'forged' } }), 400, 'invalid_cursor');

// A retry after a lost answer, with the same key: the first answer again, and one project only.
const retryKey = randomUUID();
const first = await createProject({ client: asBob, body: { name: 'Gemini' }, headers: keyed(retryKey) });
const again = await createProject({ client: asBob, body: { name: 'Gemini' }, headers: keyed(retryKey) });
if (ok(again, 201).id !== ok(first, 201).id) fail('the retry made another project');
if (again.response?.headers.get('idempotency-replayed') !== 'true') fail('the retry is not marked as a replay');
if (ok(await listProjects({ client: asBob }), 200).items.length !== 2) fail('bob should see two projects');
problem(await createProject({ client: asBob, body: { name: 'Mercury' }, headers: keyed(retryKey) }), 422, 'idempotency_key_reused');

// A file up and back, byte for byte (every byte value), then listed.
const data = new Uint8Array(256 * 1000).map((_, i) => i % 256);
const uploaded = ok(await uploadFile({
  client: asBob, path: { project_id: project.id }, query: { name: 'Über.bin' },
  body: new Blob([data], { type: 'application/octet-stream' }), headers: keyed(),
}), 201);
if (uploaded.size !== data.length || uploaded.name !== 'Über.bin') fail(`uploaded ${JSON.stringify(uploaded)}`);
const downloaded = await downloadFile({ client: asAda, path: { file_id: uploaded.id }, parseAs: 'arrayBuffer' });
const bytes = new Uint8Array(ok(downloaded, 200) as unknown as ArrayBuffer);
if (bytes.length !== data.length || bytes.some((b, i) => b !== data[i])) fail('the downloaded bytes differ');
const files = ok(await listFiles({ client: asAda, path: { project_id: project.id } }), 200);
if (files.items.length !== 1 || files.items[0].id !== uploaded.id) fail('the file is not listed');

console.log('typescript scenario: OK');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
