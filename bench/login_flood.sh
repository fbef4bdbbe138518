#!/usr/bin/env bash
# A login flood and what it does to everyone else: one instance on a fresh database, one client
# reading `GET /users/me` one request at a time, first alone, then while FLOOD clients
# (200) send logins of unknown names as fast as they are answered. Prints, for each phase, the
# reads' requests/s, p50, p99, p99.9 and max (ms) and errors (reads not answered 2xx), then the
# flood's own figures and statuses, the server's peak RSS and CPU seconds.
#
#   bench/login_flood.sh [sqlite|postgres]
#
# Then: logins whose clients leave while they wait (ABANDONED, default 150), and how long one
# more login takes after them.
#
# BENCH_DURATION (s, default 20) of flood; FLOOD (default 200) concurrent logins; FLOOD_OP=anonymous
# floods with `GET /users/me` without a token instead (a control: cheap requests refused at once);
# TESSERA_BIN
# measures that binary instead of building this tree's (e.g. a build of main, for a before/after);
# server flags may follow the backend (bench/login_flood.sh sqlite --hash-concurrency 2).
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
shift || true

duration=${BENCH_DURATION:-20}
flood=${FLOOD:-200}
work=$(mktemp -d /tmp/tessera-flood.XXXXXX)
server_pid=""
flood_pid=""
cleanup() {
    [ -n "$flood_pid" ] && kill "$flood_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -d "$work/pg" ] && scripts/postgres.sh stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk (Debian package)" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >&2
fi

bin=${TESSERA_BIN:-}
if [ -z "$bin" ]; then
    echo "bench: building the release binary" >&2
    cargo build --release --locked -p bootstrap >&2
    bin="${CARGO_TARGET_DIR:-target}/release/tessera"
fi

export TESSERA_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123"
export TESSERA_STORAGE="$backend"
case "$backend" in
    sqlite)
        export TESSERA_DATABASE_URL="sqlite://$work/flood.db"
        ;;
    postgres)
        admin=$(scripts/postgres.sh start "$work/pg")
        psql -q "$admin" -c "CREATE DATABASE flood"
        export TESSERA_DATABASE_URL="${admin%/*}/flood"
        ;;
    *)
        echo "bench: unknown backend $backend (sqlite or postgres)" >&2
        exit 2
        ;;
esac
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" --listen "127.0.0.1:$port" --log-format json "$@" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/health/ready" >/dev/null

json='Content-Type: application/json'
curl -fsS -H "$json" "$base/api/v1/auth/register" -o /dev/null \
    -d '{"email":"reader@example.com","username":"reader","password":"correct horse battery","first_name":"R","last_name":"Reader"}'
token=$(curl -fsS -H "$json" "$base/api/v1/auth/login" -d '{"login":"reader","password":"correct horse battery"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

cpu_seconds() {
    awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$server_pid/stat"
}
row() { # label, the RESULT line
    read -r _ rps p50 p99 p999 max errors _ <<<"$2"
    printf "%-22s %9s %8s %8s %9s %8s %7s\n" "$1" "$rps" "$p50" "$p99" "$p999" "$max" "$errors"
}

echo
echo "Tessera ($("$bin" --version 2>/dev/null || echo tessera)) on $backend: GET /users/me from one connection, alone, then during $flood concurrent ${FLOOD_OP:-login}s; $duration s each, wrk on the same machine"
printf "%-22s %9s %8s %8s %9s %8s %7s\n" "/users/me" "req/s" "p50 ms" "p99 ms" "p99.9 ms" "max ms" errors
wrk -t1 -c1 -d2s -s bench/wrk/flood.lua "$base" -- me "$token" >/dev/null # warm-up
quiet=$(wrk -t1 -c1 -d"${duration}s" -s bench/wrk/flood.lua "$base" -- me "$token" | grep '^RESULT')
row "alone" "$quiet"

# Logins whose clients leave: ABANDONED (150) logins sent at once, each connection closed 200 ms
# later while most still wait for a hash; then one more login, timed: it waits behind whatever is
# still hashed for nobody.
abandoned=$(python3 - "$port" "${ABANDONED:-150}" <<'PY'
import json, socket, sys, time, urllib.error, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
def login(name):
    body = json.dumps({"login": name, "password": "not the password"}).encode()
    head = ("POST /api/v1/auth/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % len(body))
    return head.encode() + body
connections = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(login("gone_%d" % i))
    connections.append(c)
time.sleep(0.2)
for c in connections:
    c.close()
started = time.monotonic()
request = urllib.request.Request("http://127.0.0.1:%d/api/v1/auth/login" % port, headers={"Content-Type": "application/json"},
    data=json.dumps({"login": "after_them", "password": "not the password"}).encode())
try:
    status = urllib.request.urlopen(request).status
except urllib.error.HTTPError as e:
    status = e.code
print("%d logins whose clients left after 200 ms, then one more: answered %d in %.0f ms"
      % (n, status, (time.monotonic() - started) * 1000))
PY
)
# Whatever those left queued is done before the flood starts.
sleep 3

echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true # resets the peak-RSS mark
cpu_before=$(cpu_seconds)
# The flood runs 2 s longer than the reads, which start once it is under way. Logins may wait
# long under it: wrk's own 2 s timeout would drop and resend them.
wrk -t1 -c"$flood" -d"$((duration + 2))s" --timeout 60s -s bench/wrk/flood.lua "$base" -- "${FLOOD_OP:-login}" \
    >"$work/flood.txt" &
flood_pid=$!
sleep 1
wrk -t1 -c1 -d"${duration}s" -s bench/wrk/flood.lua "$base" -- me "$token" >"$work/during.txt"
row "during the flood" "$(grep '^RESULT' "$work/during.txt")"
wait "$flood_pid"
flood_pid=""
cpu_after=$(cpu_seconds)
peak=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")

echo
printf "%-22s %9s %8s %8s %9s %8s %7s\n" "${FLOOD_OP:-login}s" "req/s" "p50 ms" "p99 ms" "p99.9 ms" "max ms" errors
row "the flood" "$(grep '^RESULT' "$work/flood.txt")"
echo "statuses: $(grep '^STATUSES' "$work/flood.txt" | cut -d' ' -f2-) (reads during the flood: $(grep '^STATUSES' "$work/during.txt" | cut -d' ' -f2-))"
echo "server: peak RSS $peak MB, $(echo "$cpu_after - $cpu_before" | bc) CPU s during the flood"
echo "$abandoned"
