#!/usr/bin/env bash
# Cold starts of tessera as an AWS Lambda function, locally (bench/lambda_cold_start.py says how):
# builds the release binary, starts DynamoDB Local and cargo-lambda's runtime API emulator, and
# prints init duration, first request latency, warm latency and peak RSS, and the binary's size.
#
#   bench/lambda_cold_start.sh            # ROUNDS=10; TESSERA_BIN=… measures another binary
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/tessera-coldstart.XXXXXX)
cleanup() {
    scripts/dynamodb.sh stop "$work/ddb" > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${TESSERA_BIN:-}" ]; then
    cargo build --release --locked -p bootstrap --bin tessera >&2
    target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    TESSERA_BIN="$target_dir/release/tessera"
fi
AWS_ENDPOINT_URL_DYNAMODB=$(scripts/dynamodb.sh start "$work/ddb")
export AWS_ENDPOINT_URL_DYNAMODB AWS_ACCESS_KEY_ID=coldstart AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
TESSERA_BIN="$TESSERA_BIN" CARGO_LAMBDA="$(scripts/lambda-tools.sh)/cargo-lambda" python3 bench/lambda_cold_start.py
