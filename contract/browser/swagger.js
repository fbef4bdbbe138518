// Swagger UI in a real browser (Debian's Chromium driven by playwright-core), against Tessera's own
// /docs: authorize with a bearer token, "Try it out" create_project (201 shown), upload_file into
// it (a file picked in the browser; 201 shown), then get_project with an unknown id (the 404
// problem body shown); no request may leave 127.0.0.1; all of it under
// the page's own Content-Security-Policy, which nothing may violate; a screenshot is saved.
//
// Usage: node browser/swagger.js BASE_URL ACCESS_TOKEN SCREENSHOT_PATH
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [base, token, screenshot] = process.argv.slice(2);

function fail(message) {
  throw new Error(`swagger ui: ${message}`);
}

async function tryItOut(page, operation, fill) {
  const block = page.locator(`#operations-${operation}`);
  await block.locator('.opblock-summary').first().click();
  await block.getByRole('button', { name: 'Try it out' }).click();
  await fill(block);
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  const body = block.locator('.live-responses-table tr.response .response-col_description').first();
  return { status: (await status.innerText()).trim(), body: await body.innerText() };
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const foreign = [];
  context.on('request', (request) => {
    const host = new URL(request.url()).hostname;
    if (!['127.0.0.1', 'localhost'].includes(host) && !request.url().startsWith('data:')) foreign.push(request.url());
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    // Chromium reports every blocked script, style, image or request on the console.
    const violations = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text());
    });
    const docs = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
    const policy = (await docs.allHeaders())['content-security-policy'] || '';
    if (!policy.includes("script-src 'sha256-")) fail(`/docs is not served under its own policy: ${policy}`);
    await page.locator('#operations-projects-create_project').waitFor({ timeout: 15000 });

    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.dialog-ux');
    await dialog.locator('input').first().fill(token);
    await dialog.locator('button.modal-btn.authorize').click();
    await dialog.locator('button.btn-done').click();

    const created = await tryItOut(page, 'projects-create_project', async (block) => {
      await block.locator('textarea.body-param__text').fill(JSON.stringify({ name: 'From Swagger UI', description: 'Tried out' }));
    });
    if (created.status !== '201') fail(`create_project answered ${created.status}: ${created.body}`);
    if (!created.body.includes('From Swagger UI')) fail(`the created project is not shown: ${created.body}`);

    const projectId = JSON.parse(created.body.match(/\{[\s\S]*\}/)[0]).id;
    const uploaded = await tryItOut(page, 'files-upload_file', async (block) => {
      await block.locator('input[placeholder="project_id"]').fill(projectId);
      await block.locator('input[placeholder="name"]').fill('from-swagger.txt');
      await block.locator('input[type="file"]').setInputFiles({
        name: 'from-swagger.txt', mimeType: 'text/plain', buffer: Buffer.from('picked in the browser'),
      });
    });
    if (uploaded.status !== '201') fail(`upload_file answered ${uploaded.status}: ${uploaded.body}`);
    if (!uploaded.body.includes('from-swagger.txt') || !uploaded.body.includes('"size": 21')) {
      fail(`the uploaded file is not shown: ${uploaded.body}`);
    }

    const missing = await tryItOut(page, 'projects-get_project', async (block) => {
      // Swagger UI itself refuses a value that is not a UUID; this one is well-formed and unknown.
      await block.locator('input[placeholder="project_id"]').fill('01937000-0000-7000-8000-000000000000');
    });
    if (missing.status !== '404') fail(`get_project with an unknown id answered ${missing.status}`);
    if (!missing.body.includes('project_not_found')) fail(`the problem body is not shown: ${missing.body}`);

    await page.locator('#operations-projects-get_project').screenshot({ path: screenshot });
    if (foreign.length > 0) fail(`the page reached beyond 127.0.0.1: ${foreign.join(', ')}`);
    if (violations.length > 0) fail(`the page broke its Content-Security-Policy: ${violations.join('\n')}`);
    console.log('swagger ui: OK');
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
