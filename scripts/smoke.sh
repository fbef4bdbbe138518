#!/usr/bin/env bash
# Builds the release binary and checks what a newcomer gets from `cargo run --release` on a fresh
# machine: SQLite under ./data/ with no set-up, Swagger UI at /docs, and register → login →
# refresh → /users/me working; then SIGTERM stops it cleanly.
set -euo pipefail
# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"
cd "$(dirname "$0")/.."

cargo build --release --locked -p bootstrap
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
binary="$target_dir/release/tessera"

work=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
(cd "$work" && exec "$binary" --listen "127.0.0.1:$port" --log-format json) > "$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "smoke: $*" >&2; cat "$work/server.log" >&2; exit 1; }

for _ in $(seq 1 100); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || fail "the server exited"
    sleep 0.1
done
curl -fsS "$base/health/ready" >/dev/null || fail "not ready"
curl -fsS -o "$work/docs.html" "$base/docs" || fail "/docs"
grep -q SwaggerUIBundle "$work/docs.html" || fail "/docs does not serve Swagger UI"
[ -f "$work/data/tessera.db" ] || fail "no database under ./data/"
[ "$(stat -c %a "$work/data/tessera.jwt-secret")" = 600 ] || fail "the generated secret is not mode 0600"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -fsS -X POST "$base$1" -H 'content-type: application/json' -d "$2"; }
post /api/v1/auth/register '{"email":"new@example.com","username":"newcomer","password":"correct horse","first_name":"New","last_name":"Comer"}' >/dev/null \
    || fail "register"
refresh=$(post /api/v1/auth/login '{"login":"newcomer","password":"correct horse"}' | json '["refresh_token"]') || fail "login"
access=$(post /api/v1/auth/refresh "{\"refresh_token\":\"$refresh\"}" | json '["access_token"]') || fail "refresh"
me=$(curl -fsS "$base/api/v1/users/me" -H "authorization: Bearer $access" | json '["username"]') || fail "/users/me"
[ "$me" = newcomer ] || fail "/users/me answered $me"

kill -TERM "$pid"
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "still running 10 s after SIGTERM"
wait "$pid" || fail "exited with status $? after SIGTERM"
echo "smoke: release binary OK ($(du -h "$binary" | cut -f1))"
