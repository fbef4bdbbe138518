#!/usr/bin/env bash
# `tessera copy`, measured: the benchmark data set (BENCH_USERS 1000, BENCH_PROJECTS 2000,
# BENCH_POSTS 50000, seeded by tessera-bench) copied from SQLite to PostgreSQL and to DynamoDB
# Local, each on a fresh server. Prints, per target: records copied, the copy's seconds (its own
# report, which includes the verification) and records per second, and the process's peak RSS
# (GNU time's maximum resident set size) — which a page of 200 records should bound, whatever the
# data set's size.
#
#   bench/copy.sh [postgres] [dynamodb]      (both when none is named)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(postgres dynamodb)
work=$(mktemp -d /tmp/tessera-copy-bench.XXXXXX)
cleanup() {
    [ -d "$work/pg" ] && scripts/postgres.sh stop "$work/pg" || true
    [ -d "$work/ddb" ] && scripts/dynamodb.sh stop "$work/ddb" || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time (Debian package)" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >&2
fi

echo "bench: building the release binaries" >&2
cargo build --release --locked -p bootstrap -p tessera-bench >&2
bin="${CARGO_TARGET_DIR:-target}/release"
export TESSERA_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" RUST_LOG=warn

source_url="sqlite://$work/source.db"
echo "bench: seeding ${BENCH_USERS:-1000} users, ${BENCH_PROJECTS:-2000} projects, ${BENCH_POSTS:-50000} posts on SQLite" >&2
TESSERA_STORAGE=sqlite TESSERA_DATABASE_URL="$source_url" "$bin/tessera-bench" seed \
    --users "${BENCH_USERS:-1000}" --projects "${BENCH_PROJECTS:-2000}" --posts "${BENCH_POSTS:-50000}" \
    --fixtures "$work/fixtures.json" >&2
echo "bench: source $(du -h "$work/source.db" | cut -f1)" >&2

printf '%-24s %10s %10s %12s %14s\n' "copy" "records" "seconds" "records/s" "peak RSS (MB)"
for target in "${targets[@]}"; do
    case "$target" in
        postgres)
            admin=$(scripts/postgres.sh start "$work/pg")
            psql -q "$admin" -c "CREATE DATABASE copied"
            to="${admin%/*}/copied"
            extra=()
            ;;
        dynamodb)
            endpoint=$(scripts/dynamodb.sh start "$work/ddb")
            export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
            to="dynamodb://copied"
            extra=(--to-dynamodb-endpoint "$endpoint")
            ;;
        *)
            echo "bench: unknown target $target (postgres, dynamodb)" >&2
            exit 2
            ;;
    esac
    /usr/bin/time -f '%M' -o "$work/rss" "$bin/tessera" copy --from "$source_url" --to "$to" "${extra[@]}" \
        > "$work/report" 2> "$work/progress" || { cat "$work/report" "$work/progress" >&2; exit 1; }
    records=$(awk '/ copied / { n += $3 + $6 } END { print n }' "$work/report")
    seconds=$(awk '/^done in/ { print $3 }' "$work/report")
    python3 - "$target" "$records" "$seconds" "$(cat "$work/rss")" <<'PY'
import sys
target, records, seconds, rss_kb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
# The report rounds to a tenth of a second: a tiny copy says 0.0.
rate = f"{records / seconds:.0f}" if seconds > 0 else "-"
print(f"{'sqlite -> ' + target:<24} {records:>10} {seconds:>10.1f} {rate:>12} {rss_kb / 1024:>14.1f}")
PY
    cat "$work/report" >&2
done
