"""The benchmarked API operations as single requests, for the scripts that send a few of them one
at a time (pgbench.py captures their SQL, dynamodb_costs.py their DynamoDB calls)."""
import json
import urllib.request

OPERATIONS = ["me", "projects", "project_posts", "creator_posts", "create_post", "patch_post"]


def request(base, op, user, n):
    """Sends request number `n` of `op` as `user` (a fixtures entry with its token)."""
    path, method, body = {
        "me": ("/api/v1/users/me", "GET", None),
        "projects": ("/api/v1/projects?limit=20", "GET", None),
        "project_posts": (f"/api/v1/projects/{user['project']}/posts?limit=20", "GET", None),
        "creator_posts": (f"/api/v1/creators/{user['creator']}/posts?limit=20", "GET", None),
        "create_post": (f"/api/v1/projects/{user['project']}/posts", "POST",
                        {"title": f"Single request {n}", "body": "Load test text. " * 60, "status": "published"}),
        "patch_post": (f"/api/v1/posts/{user['posts'][n % len(user['posts'])]}", "PATCH",
                       {"title": f"Single edit {n}"}),
    }[op]
    # `If-Match: *` — these requests only observe costs; the load runs send real versions.
    headers = {"Authorization": "Bearer " + user["token"], "Content-Type": "application/json", "If-Match": "*"}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method=method, headers=headers)) as r:
        r.read()
