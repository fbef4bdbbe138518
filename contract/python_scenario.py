"""Issue 6's scenario through the generated Python client only (openapi-python-client).

Usage: python python_scenario.py BASE_URL   (the package `tessera_client` must be importable)
Every response is parsed by the generated models; a failure raises with what was expected.
"""

import sys
import uuid

from tessera_client import AuthenticatedClient, Client
from tessera_client.api.auth import login, refresh, register
from tessera_client.api.files import download_file, list_files, upload_file
from tessera_client.api.members import list_members, put_member
from tessera_client.api.posts import create_post, list_creator_posts, list_project_posts, update_post
from tessera_client.api.projects import create_project, get_project, list_projects, update_project
from tessera_client.api.users import get_me
from tessera_client.models import (
    CreatePostRequest,
    CreateProjectRequest,
    LoginRequest,
    Member,
    MemberPage,
    MemberRole,
    Post,
    PostPage,
    PostStatus,
    Problem,
    ProjectFile,
    ProjectFilePage,
    Project,
    ProjectPage,
    ProjectRole,
    PutMemberRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UpdatePostRequest,
    UpdateProjectRequest,
    User,
)
from tessera_client.types import UNSET, File

BASE = sys.argv[1]
SUFFIX = uuid.uuid4().hex[:8]
PASSWORD = "correct horse battery"


def key():
    """A fresh Idempotency-Key: every POST of this scenario sends one, as a careful client does."""
    return str(uuid.uuid4())


def expect(response, status, model):
    """The response has this status and parsed into this generated model."""
    if response.status_code != status or not isinstance(response.parsed, model):
        raise SystemExit(
            f"expected {status} {model.__name__}, got {response.status_code} {response.parsed!r}: {response.content!r}"
        )
    return response.parsed


def expect_problem(response, status, code):
    problem = expect(response, status, Problem)
    if problem.code != code or problem.request_id != response.headers.get("x-request-id"):
        raise SystemExit(f"expected problem {code}, got {problem!r}")
    return problem


anonymous = Client(base_url=BASE)


def person(name):
    username = f"{name}_{SUFFIX}"
    user = expect(
        register.sync_detailed(
            client=anonymous,
            body=RegisterRequest(
                email=f"{username}@example.com",
                username=username,
                password=PASSWORD,
                first_name=name.title(),
                last_name="Python",
            ),
            idempotency_key=key(),
        ),
        201,
        User,
    )
    tokens = expect(login.sync_detailed(client=anonymous, body=LoginRequest(login=username, password=PASSWORD), idempotency_key=key()), 200, TokenPair)
    return user, tokens


ada, ada_tokens = person("ada")
bob, bob_tokens = person("bob")

# The username is taken: a typed 409.
expect_problem(
    register.sync_detailed(
        client=anonymous,
        body=RegisterRequest(email=f"other{SUFFIX}@example.com", username=ada.username, password=PASSWORD, first_name="A", last_name="B"),
        idempotency_key=key(),
    ),
    409,
    "username_taken",
)

# Refresh rotates the pair.
renewed = expect(refresh.sync_detailed(client=anonymous, body=RefreshRequest(refresh_token=ada_tokens.refresh_token), idempotency_key=key()), 200, TokenPair)
assert renewed.refresh_token != ada_tokens.refresh_token
as_ada = AuthenticatedClient(base_url=BASE, token=renewed.access_token)
as_bob = AuthenticatedClient(base_url=BASE, token=bob_tokens.access_token)
assert expect(get_me.sync_detailed(client=as_ada), 200, User).id == ada.id

# A project, shared with bob as an editor.
project = expect(
    create_project.sync_detailed(client=as_ada, body=CreateProjectRequest(name="Apollo", description="Moon"), idempotency_key=key()), 201, Project
)
assert project.my_role == ProjectRole.OWNER and project.owner.id == ada.id
member = expect(
    put_member.sync_detailed(project.id, bob.id, client=as_ada, body=PutMemberRequest(role=MemberRole.EDITOR)), 201, Member
)
assert member.role == ProjectRole.EDITOR

# Posts: written as drafts, one published.
posts = [
    expect(
        create_post.sync_detailed(project.id, client=as_bob, body=CreatePostRequest(title=f"Note {i}", body="Text."), idempotency_key=key()), 201, Post
    )
    for i in range(5)
]
published = expect(
    update_post.sync_detailed(posts[0].id, client=as_bob, body=UpdatePostRequest(status=PostStatus.PUBLISHED), if_match='"1"'),
    200,
    Post,
)
assert published.published_at is not None and published.status == PostStatus.PUBLISHED

# Paging with cursors until next_cursor is null.
seen, cursor = [], UNSET
while True:
    page = expect(list_project_posts.sync_detailed(project.id, client=as_ada, limit=2, cursor=cursor), 200, PostPage)
    seen.extend(p.id for p in page.items)
    if page.next_cursor is None:
        break
    cursor = page.next_cursor
assert sorted(map(str, seen)) == sorted(str(p.id) for p in posts), seen
members = expect(list_members.sync_detailed(project.id, client=as_bob, limit=1), 200, MemberPage)
assert len(members.items) == 1 and members.next_cursor is not None
projects = expect(list_projects.sync_detailed(client=as_bob), 200, ProjectPage)
assert [p.id for p in projects.items] == [project.id]

# A creator's posts, with nested profiles.
by_bob = expect(list_creator_posts.sync_detailed(bob.id, client=as_ada, limit=20), 200, PostPage)
assert len(by_bob.items) == 5 and all(p.creator.id == bob.id for p in by_bob.items)

# Typed errors: 404, 412, 422, and 400 for a forged cursor.
expect_problem(get_project.sync_detailed(uuid.uuid4(), client=as_ada), 404, "project_not_found")
expect_problem(
    update_project.sync_detailed(project.id, client=as_ada, body=UpdateProjectRequest(name="Stale"), if_match='"9"'), 412, "version_mismatch"
)
invalid = expect_problem(
    create_project.sync_detailed(client=as_ada, body=CreateProjectRequest(name="   "), idempotency_key=key()), 422, "validation_failed"
)
assert [e.field for e in invalid.errors] == ["name"]
expect_problem(list_project_posts.sync_detailed(project.id, client=as_ada, cursor="forged"), 400, "invalid_cursor")

# A retry after a lost answer, with the same key: the first answer again, and one project only.
retry_key = key()
first = create_project.sync_detailed(client=as_bob, body=CreateProjectRequest(name="Gemini"), idempotency_key=retry_key)
again = create_project.sync_detailed(client=as_bob, body=CreateProjectRequest(name="Gemini"), idempotency_key=retry_key)
assert expect(again, 201, Project).id == expect(first, 201, Project).id
assert again.headers.get("idempotency-replayed") == "true" and again.content == first.content
assert len(expect(list_projects.sync_detailed(client=as_bob), 200, ProjectPage).items) == 2
# The same key with another request is refused.
expect_problem(
    create_project.sync_detailed(client=as_bob, body=CreateProjectRequest(name="Mercury"), idempotency_key=retry_key),
    422,
    "idempotency_key_reused",
)

# A file up and back, byte for byte (every byte value), then listed.
data = bytes(range(256)) * 1000
uploaded = expect(
    upload_file.sync_detailed(
        project.id,
        client=as_bob,
        name="Über.bin",
        body=File(payload=data, mime_type="application/octet-stream"),
        idempotency_key=key(),
    ),
    201,
    ProjectFile,
)
assert uploaded.size == len(data) and uploaded.name == "Über.bin", uploaded
downloaded = download_file.sync_detailed(uploaded.id, client=as_ada)
assert downloaded.status_code == 200 and downloaded.content == data, (downloaded.status_code, len(downloaded.content))
part = download_file.sync_detailed(uploaded.id, client=as_ada, range_="bytes=256-511")
assert part.status_code == 206 and part.content == bytes(range(256)), part.status_code
files = expect(list_files.sync_detailed(project.id, client=as_ada), 200, ProjectFilePage)
assert [f.id for f in files.items] == [uploaded.id]

print("python scenario: OK")
