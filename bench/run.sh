#!/usr/bin/env bash
# Tessera's cost, measured: builds the release binaries, starts a backend from scratch, seeds a
# realistic data set, serves it, drives each operation with wrk over loopback and prints, per
# operation and concurrency: requests/s, p50, p99, p99.9 (ms), errors, and the server's peak RSS
# and CPU seconds. Then the storage's own ceiling for the same work (PostgreSQL: pgbench with
# the adapter's exact SQL; SQLite: the adapter's calls without HTTP; DynamoDB: calls and
# consumed capacity per request).
#
#   bench/run.sh sqlite|postgres|dynamodb
#
# BENCH_DURATION (s, default 20) and BENCH_WARMUP (s, default 3) per run; BENCH_USERS,
# BENCH_PROJECTS, BENCH_POSTS size the data set (1000, 2000, 50000); BENCH_KEEP=1 keeps the work
# directory (logs, fixtures, generated pgbench scripts). For A/B runs of a change: BENCH_OPS and
# BENCH_CONNS choose operations and concurrencies (all, and "32 128"), BENCH_SERVERS lists
# `tessera` binaries to serve the same data set in turn (default: this tree's release build),
# BENCH_ROUNDS repeats them (alternating) and BENCH_NO_CEILING=1 skips the ceiling. The
# `cpu µs/req` column (the server's CPU time per request) varies less than req/s between runs.
# BENCH_PERF=DIR records a CPU profile of the server during each measured run (`perf record -e
# cpu-clock -F 2000`) as DIR/N-OP-CONNS.data (N counts the measured runs); serve a `profiling`
# build (BENCH_SERVERS) for its symbols.
# patch_post A/Bs too: each of its runs, for every server and round, patches a slice of the posts
# of its own, at version 1 (op.lua). The slices thin out as servers × rounds grow: from 16 on, a
# few PATCHes at 128 connections find their post still in flight (412).
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:?usage: bench/run.sh sqlite|postgres|dynamodb}
duration=${BENCH_DURATION:-20}
warmup=${BENCH_WARMUP:-3}
work=$(mktemp -d /tmp/tessera-bench.XXXXXX)
server_pid=""
cleanup() {
    [ -n "${perf_pid:-}" ] && kill "$perf_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -d "$work/pg" ] && scripts/postgres.sh stop "$work/pg" || true
    [ -d "$work/ddb" ] && scripts/dynamodb.sh stop "$work/ddb" || true
    if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk (Debian package)" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >&2
fi

echo "bench: building the release binaries" >&2
cargo build --release --locked -p bootstrap -p tessera-bench >&2
bin="${CARGO_TARGET_DIR:-target}/release"

export TESSERA_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123"
export TESSERA_STORAGE="$backend"
case "$backend" in
    sqlite)
        export TESSERA_DATABASE_URL="sqlite://$work/bench.db"
        ;;
    postgres)
        admin=$(scripts/postgres.sh start "$work/pg")
        psql -q "$admin" -c "CREATE DATABASE bench"
        export TESSERA_DATABASE_URL="${admin%/*}/bench"
        ;;
    dynamodb)
        AWS_ENDPOINT_URL_DYNAMODB=$(scripts/dynamodb.sh start "$work/ddb")
        export AWS_ENDPOINT_URL_DYNAMODB AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
        export TESSERA_DYNAMODB_TABLE=bench
        ;;
    *)
        echo "bench: unknown backend $backend" >&2
        exit 2
        ;;
esac

echo "bench: seeding ${BENCH_USERS:-1000} users, ${BENCH_PROJECTS:-2000} projects, ${BENCH_POSTS:-50000} posts on $backend" >&2
seed_started=$(date +%s)
"$bin/tessera-bench" seed --users "${BENCH_USERS:-1000}" --projects "${BENCH_PROJECTS:-2000}" \
    --posts "${BENCH_POSTS:-50000}" --fixtures "$work/fixtures.json"
echo "bench: seeded in $(($(date +%s) - seed_started)) s" >&2
# The test cluster runs without autovacuum: give the planner the statistics a real one would have.
if [ "$backend" = postgres ]; then
    psql -q "$TESSERA_DATABASE_URL" -c "VACUUM ANALYZE"
    # The ceiling runs on a copy of the data as seeded: by the time pgbench runs, Tessera's write
    # runs have added a hundred thousand posts to the fixture users' projects, and counting them
    # made pgbench's list statements several times slower than they were for Tessera.
    psql -q "$admin" -c "CREATE DATABASE bench_ceiling TEMPLATE bench"
fi
# Likewise for SQLite's ceiling: a copy of the database file (and its WAL, if the seeding process
# left one), taken while nothing has it open.
if [ "$backend" = sqlite ]; then
    for suffix in "" -wal -shm; do
        if [ -f "$work/bench.db$suffix" ]; then cp "$work/bench.db$suffix" "$work/ceiling.db$suffix"; fi
    done
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
start_server() {
    "$1" --listen "127.0.0.1:$port" --log-format json --no-migrate serve >>"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "$base/health/ready" >/dev/null
}
stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
servers=(${BENCH_SERVERS:-$bin/tessera})
start_server "${servers[0]}"

# Log the fixture users in; the wrk scripts read their tokens from a Lua data file.
python3 - "$work/fixtures.json" "$base" "$work/data.lua" "$work/sessions.json" <<'PY'
import json, sys, urllib.request
fixtures, base, out, sessions = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
def lua(s): return '"' + s + '"'
lines = ["return { password = %s, users = {" % lua(fixtures["password"])]
for u in fixtures["users"]:
    req = urllib.request.Request(base + "/api/v1/auth/login", method="POST",
        data=json.dumps({"login": u["username"], "password": fixtures["password"]}).encode(),
        headers={"Content-Type": "application/json"})
    token = json.load(urllib.request.urlopen(req))["access_token"]
    u["token"] = token
    posts = ", ".join(lua(p) for p in u["posts"])
    lines.append("  { token = %s, username = %s, id = %s, project = %s, creator = %s, posts = { %s } }," % (
        lua(token), lua(u["username"]), lua(u["id"]), lua(u["project"]), lua(u["creator"]), posts))
lines.append("} }")
open(out, "w").write("\n".join(lines) + "\n")
json.dump(fixtures, open(sessions, "w"))
PY

cpu_seconds() {
    awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$server_pid/stat"
}

results="$work/results.txt"
: >"$results"
ops=(${BENCH_OPS:-me projects project_posts creator_posts create_post patch_post login})
conns=(${BENCH_CONNS:-32 128})
# Each wrk run patches posts no other run touched (see bench/wrk/op.lua): a slice of its own for
# each warm-up and measured run at each concurrency, on every server in every round.
slices=$((2 * ${#conns[@]} * ${#servers[@]} * ${BENCH_ROUNDS:-1}))
runs=0
measured=0
run_op() {
    local op=$1 connections=$2 line cpu_before cpu_after peak
    wrk -t2 -c"$connections" -d"${warmup}s" -s bench/wrk/op.lua "$base" -- "$op" "$work/data.lua" \
        $((runs % slices)) "$slices" 2 >/dev/null
    [ "$op" = patch_post ] && runs=$((runs + 1))
    echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true # resets the peak-RSS mark
    cpu_before=$(cpu_seconds)
    perf_pid=""
    measured=$((measured + 1))
    if [ -n "${BENCH_PERF:-}" ]; then
        mkdir -p "$BENCH_PERF"
        perf record -q -e cpu-clock -F 2000 -p "$server_pid" -o "$BENCH_PERF/$measured-$op-$connections.data" \
            -- sleep "$duration" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    line=$(wrk -t2 -c"$connections" -d"${duration}s" -s bench/wrk/op.lua "$base" -- "$op" "$work/data.lua" \
        $((runs % slices)) "$slices" 2 | grep '^RESULT')
    [ "$op" = patch_post ] && runs=$((runs + 1))
    cpu_after=$(cpu_seconds)
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || echo "bench: perf record failed for $op at $connections" >&2
        perf_pid=""
    fi
    peak=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
    # RESULT rps p50 p99 p99.9 errors requests
    read -r _ rps p50 p99 p999 errors requests <<<"$line"
    local cpu per_request
    cpu=$(echo "$cpu_after - $cpu_before" | bc)
    per_request=$(python3 -c "print(round($cpu * 1e6 / max($requests, 1)))")
    printf "%-14s %5s %10s %8s %8s %8s %7s %9s %8s %11s\n" "$op" "$connections" "$rps" "$p50" "$p99" "$p999" \
        "$errors" "$peak" "$cpu" "$per_request" | tee -a "$results"
}

for round in $(seq 1 "${BENCH_ROUNDS:-1}"); do
    for n in "${!servers[@]}"; do
        if [ "$round$n" != 10 ]; then
            stop_server
            start_server "${servers[$n]}"
        fi
        echo
        echo "Tessera on $backend: ${duration} s per run after ${warmup} s of warm-up, wrk -t2 on the same machine"
        [ ${#servers[@]} -gt 1 ] && echo "server ${servers[$n]} (round $round)"
        printf "%-14s %5s %10s %8s %8s %8s %7s %9s %8s %11s\n" operation conns "req/s" "p50 ms" "p99 ms" "p99.9 ms" \
            errors "peak MB" "cpu s" "cpu µs/req" | tee -a "$results"
        for op in "${ops[@]}"; do
            if [ "$op" = login ]; then
                run_op login 8
                continue
            fi
            for connections in "${conns[@]}"; do
                run_op "$op" "$connections"
            done
        done
    done
done
[ -n "${BENCH_NO_CEILING:-}" ] && exit 0

echo
case "$backend" in
    sqlite)
        echo "The ceiling: the adapter's own calls for each operation, without HTTP (tessera-bench ceiling, 32 tasks)"
        stop_server
        printf "%-14s %5s %10s %8s %8s %8s %7s\n" operation tasks "calls/s" "p50 ms" "p99 ms" "p99.9 ms" errors
        for op in me projects project_posts creator_posts create_post patch_post; do
            TESSERA_DATABASE_URL="sqlite://$work/ceiling.db" \
                "$bin/tessera-bench" ceiling --op "$op" --concurrency 32 --seconds "$duration" \
                --fixtures "$work/fixtures.json" | awk '{ printf "%-14s %5s %10s %8s %8s %8s %7s\n", $2, $3, $4, $5, $6, $7, $8 }'
        done
        ;;
    postgres)
        bench/pgbench.py "$admin" "$TESSERA_DATABASE_URL" "${TESSERA_DATABASE_URL%/*}/bench_ceiling" \
            "$(cat "$work/pg/cluster")/server.log" "$base" "$work/sessions.json" "$work" "$duration" "$results"
        ;;
    dynamodb)
        bench/dynamodb_costs.py "$base" "$work/sessions.json"
        ;;
esac
