#!/usr/bin/env bash
# Files, measured: upload and download throughput (MB/s) and the server's peak RSS while 8
# clients upload at once, on each blob store (the filesystem, and S3 on a local s3s-fs), for files
# of 1 MiB, 25 MiB (the default limit) and 64 MiB — the RSS must not grow with the file size
# (uploads stream).
#
#   bench/files.sh            (BENCH_CLIENTS, default 8; BENCH_ROUNDS, default 3)
#
# Each (store, size) runs on a fresh release server over SQLite; curl sends the bytes over loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/lib/processes.sh
. scripts/lib/processes.sh

clients=${BENCH_CLIENTS:-8}
rounds=${BENCH_ROUNDS:-3}
work=$(mktemp -d /tmp/tessera-files-bench.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -d "$work/s3" ] && scripts/s3.sh stop "$work/s3" || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "bench: building the release binary" >&2
cargo build --release --locked -p bootstrap >&2
bin="${CARGO_TARGET_DIR:-target}/release/tessera"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
s3=$(scripts/s3.sh start "$work/s3")
# s3s-fs serves a directory: a bucket is one of its subdirectories.
mkdir -p "$work/s3/data/bench"

peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

run() {
    local store=$1 size_mib=$2 port base token project
    port=$(free_port)
    base="http://127.0.0.1:$port"
    rm -rf "$work/run" && mkdir -p "$work/run"
    local flags=(--listen "127.0.0.1:$port" --database-url "sqlite://$work/run/bench.db" --log-format json
        --project-storage-quota $((1 << 40)) --max-uploads 64 --file-max-bytes $((64 << 20)))
    if [ "$store" = s3 ]; then
        flags+=(--blob-store s3 --s3-bucket bench --s3-endpoint "$s3" --s3-force-path-style)
    else
        flags+=(--files-dir "$work/run/files")
    fi
    TESSERA_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" RUST_LOG=warn "$bin" "${flags[@]}" \
        > "$work/run/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -fsS "$base/health/ready" > /dev/null 2>&1 && break; sleep 0.1; done
    curl -fsS -o /dev/null -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
        -d '{"email":"b@example.com","username":"bench","password":"bench password","first_name":"B","last_name":"B"}'
    token=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"login":"bench","password":"bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    project=$(curl -fsS -X POST "$base/api/v1/projects" -H 'content-type: application/json' \
        -H "authorization: Bearer $token" -d '{"name":"Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    head -c $((size_mib << 20)) /dev/urandom > "$work/run/file.bin"
    local rss_idle up_total=0 down_total=0 ids=()
    rss_idle=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
    for _ in $(seq 1 "$rounds"); do
        local started ended
        started=$(date +%s.%N)
        for i in $(seq 1 "$clients"); do
            curl -fsS -X POST "$base/api/v1/projects/$project/files?name=f$i.bin" -H "authorization: Bearer $token" \
                -H 'content-type: application/octet-stream' --data-binary "@$work/run/file.bin" > "$work/run/up$i.json" &
        done
        wait $(jobs -p | grep -v "^$server_pid$")
        ended=$(date +%s.%N)
        up_total=$(python3 -c "print($up_total + $ended - $started)")
        ids=()
        for i in $(seq 1 "$clients"); do ids+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/run/up$i.json")"); done
        started=$(date +%s.%N)
        for id in "${ids[@]}"; do
            curl -fsS -o /dev/null "$base/api/v1/files/$id/content" -H "authorization: Bearer $token" &
        done
        wait $(jobs -p | grep -v "^$server_pid$")
        ended=$(date +%s.%N)
        down_total=$(python3 -c "print($down_total + $ended - $started)")
    done
    local mb=$((clients * rounds * size_mib))
    printf '| %s | %d × %d MiB | %s | %s | %s | %s |\n' "$store" "$clients" "$size_mib" \
        "$(python3 -c "print(f'{$mb * 1.048576 / $up_total:.0f}')")" \
        "$(python3 -c "print(f'{$mb * 1.048576 / $down_total:.0f}')")" "$rss_idle" "$(peak_rss_mb "$server_pid")"
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

echo "| store | uploads at once | upload MB/s | download MB/s | RSS idle (MB) | peak RSS (MB) |"
echo "|---|---|---|---|---|---|"
for store in fs s3; do
    for size in 1 25 64; do
        run "$store" "$size"
    done
done
