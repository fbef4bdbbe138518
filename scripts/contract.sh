#!/usr/bin/env bash
# Checks Tessera's contract from the outside, with tools nobody here wrote: the committed OpenAPI
# document through openapi-spec-validator and @redocly/cli lint; then, against a live Tessera on
# one backend, schemathesis (every phase, every check) and the same scenario through a generated
# Python client (openapi-python-client) and a generated TypeScript client (@hey-api/openapi-ts,
# compiled by tsc, run by Node), and Swagger UI driven in Debian's Chromium by playwright-core
# (screenshot: target/contract/swagger-BACKEND.png). Installs its pinned tools itself
# (contract/requirements.txt, contract/package-lock.json, the Debian chromium package).
#
#   scripts/contract.sh sqlite
#   TESSERA_TEST_POSTGRES_URL=postgres://… scripts/contract.sh postgres
#   AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT AWS_REGION=… scripts/contract.sh dynamodb
#
# With `lambda` after the backend, Tessera runs as an AWS Lambda function behind cargo-lambda's
# runtime API emulator (scripts/lambda-tools.sh), and only schemathesis runs: the document
# checks and the clients do not depend on how Tessera is served.
set -euo pipefail
# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"
cd "$(dirname "$0")/.."

backend=${1:?usage: contract.sh sqlite|postgres|dynamodb [lambda]}
mode=${2:-serve}
tools=target/contract
mkdir -p "$tools"
if [ ! -x "$tools/venv/bin/st" ] || ! cmp -s contract/requirements.txt "$tools/requirements.installed"; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r contract/requirements.txt
    cp contract/requirements.txt "$tools/requirements.installed"
fi

if [ "$mode" = serve ]; then
echo "-- openapi-spec-validator"
"$tools/venv/bin/openapi-spec-validator" --validation-errors all openapi/openapi.json openapi/openapi.yaml

echo "-- @redocly/cli lint (recommended rules; warnings fail too)"
(cd contract && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
lint=$(cd contract && npx --no-install redocly lint ../openapi/openapi.json ../openapi/openapi.yaml --config redocly.yaml 2>&1) || {
    echo "$lint" >&2
    exit 1
}
if echo "$lint" | grep -qE "You have [0-9]+ warning"; then
    echo "$lint" >&2
    exit 1
fi
fi

cargo build --quiet --locked -p bootstrap
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
tessera="$target_dir/debug/tessera"

work=$(mktemp -d)
pid=""
emulator=""
relay=""
cleanup() {
    [ -n "$relay" ] && kill "$relay" 2>/dev/null || true
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    [ -n "$emulator" ] && kill "$emulator" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

export TESSERA_JWT_SECRET="contract-run-secret-contract-run-secret"
export TESSERA_FILES_DIR="$work/files"
case "$backend" in
    sqlite)
        export TESSERA_STORAGE=sqlite TESSERA_DATABASE_URL="sqlite://$work/contract.db"
        ;;
    postgres)
        : "${TESSERA_TEST_POSTGRES_URL:?the admin URL of the PostgreSQL test cluster}"
        database="contract_$(date +%s)_$$"
        psql -q "$TESSERA_TEST_POSTGRES_URL" -c "CREATE DATABASE $database"
        export TESSERA_STORAGE=postgres TESSERA_DATABASE_URL="${TESSERA_TEST_POSTGRES_URL%/*}/$database"
        ;;
    dynamodb)
        : "${AWS_ENDPOINT_URL_DYNAMODB:?the endpoint of DynamoDB Local}"
        export TESSERA_STORAGE=dynamodb TESSERA_DYNAMODB_TABLE="contract_$(date +%s%N)"
        ;;
    *)
        echo "contract.sh: unknown backend $backend" >&2
        exit 2
        ;;
esac

# An administrator, so that the admin-only list is exercised too.
TESSERA_ADMIN_PASSWORD="contract password" "$tessera" --log-format json admin create \
    --email contract@example.com --username contract > /dev/null 2> "$work/admin.log"

port=$(free_port)
base="http://127.0.0.1:$port"
if [ "$mode" = lambda ]; then
    # As on AWS: the storage set up by a deploy step, then the binary started by the Lambda
    # runtime (the variables the emulator prints), never migrating.
    "$tessera" --log-format json migrate 2>> "$work/admin.log"
    "$(scripts/lambda-tools.sh)/cargo-lambda" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" \
        > "$work/emulator.log" 2>&1 &
    emulator=$!
    for _ in $(seq 1 100); do
        (: > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    # Through the relay that keeps the emulator from losing large answers (see the script).
    python3 scripts/lambda-relay.py "$port" > "$work/relay.port" &
    relay=$!
    for _ in $(seq 1 100); do
        [ -s "$work/relay.port" ] && break
        sleep 0.1
    done
    relay_port=$(cat "$work/relay.port")
    [ -n "$relay_port" ] || { echo "contract.sh: the runtime API relay did not start" >&2; exit 1; }
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$relay_port/.rt" AWS_LAMBDA_FUNCTION_NAME=_ AWS_LAMBDA_FUNCTION_VERSION=1 \
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024 "$tessera" --log-format json > "$work/server.log" 2>&1 &
    pid=$!
else
    "$tessera" --listen "127.0.0.1:$port" --log-format json --no-migrate > "$work/server.log" 2>&1 &
    pid=$!
fi
for _ in $(seq 1 100); do
    curl -fsS "$base/health/ready" > /dev/null 2>&1 && break
    sleep 0.1
done
token=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"login":"contract","password":"contract password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "-- schemathesis on $backend ($mode)"
reports="$tools/reports/$backend-$mode"
mkdir -p "$reports"
status=0
generation=all
config=contract/schemathesis.toml
if [ "$mode" = lambda ]; then
    # Valid requests only (every phase, every check): negative mode sends raw bytes that are not
    # UTF-8 in headers and in JSON bodies, which the emulator cannot put into the JSON event it
    # hands the function (it answers 500 itself, before any invocation). The runs against
    # `tessera serve` send them to Tessera on every backend.
    generation=positive
    # With valid data only, login, refresh and password change can only be refused (no generated
    # password or token is right), which schemathesis reports as missing authentication: the
    # token is checked here instead.
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/users/me"
    config="$work/schemathesis-lambda.toml"
    sed 's/^fail-on = .*/fail-on = ["unused_openapi_auth"]/' contract/schemathesis.toml > "$config"
fi
# One worker: concurrent runs trip a CPython 3.11 compiler bug inside schemathesis (SystemError).
TESSERA_CONTRACT_TOKEN="$token" PYTHONPATH=contract SCHEMATHESIS_HOOKS=schemathesis_hooks \
    "$tools/venv/bin/st" --config-file "$config" run openapi/openapi.json \
    --url "$base" --mode "$generation" \
    --phases examples,coverage,fuzzing,stateful --max-examples 25 --seed 1 --workers 1 \
    --generation-database none --report junit --report-dir "$reports" || status=$?
if [ "$status" != 0 ]; then
    echo "contract.sh: schemathesis failed on $backend (exit $status); server log follows" >&2
    tail -n 50 "$work/server.log" >&2
    if [ "$mode" = lambda ]; then
        echo "contract.sh: the emulator's log:" >&2
        grep -v '^ INFO' "$work/emulator.log" | tail -n 30 >&2 || true
    fi
    exit "$status"
fi
if [ "$mode" = lambda ]; then
    if grep -q '"level":"ERROR"' "$work/server.log"; then
        echo "contract.sh: the function logged errors during the run" >&2
        grep '"level":"ERROR"' "$work/server.log" | head -n 20 >&2
        exit 1
    fi
    echo "-- schemathesis holds against the Lambda function on $backend"
    exit 0
fi
echo "-- the generated Python client's scenario on $backend"
rm -rf "$tools/python"
PATH="$PWD/$tools/venv/bin:$PATH" "$tools/venv/bin/openapi-python-client" generate --path openapi/openapi.json \
    --meta none --output-path "$tools/python/tessera_client" --overwrite --fail-on-warning > "$work/generate.log" 2>&1 || {
    cat "$work/generate.log" >&2
    exit 1
}
PYTHONPATH="$tools/python" "$tools/venv/bin/python" contract/python_scenario.py "$base"

echo "-- the generated TypeScript client's scenario on $backend"
rm -rf contract/ts/client "$tools/ts-dist"
(cd contract && npx --no-install openapi-ts -i ../openapi/openapi.json -o ts/client > /dev/null && npx --no-install tsc -p tsconfig.json)
node "$tools/ts-dist/scenario.js" "$base"

echo "-- Swagger UI in Chromium on $backend"
if ! command -v chromium > /dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq chromium > /dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium; }
fi
(cd contract && node browser/swagger.js "$base" "$token" "../$tools/swagger-$backend.png")

if grep -q '"level":"ERROR"' "$work/server.log"; then
    echo "contract.sh: the server logged errors during the run" >&2
    grep '"level":"ERROR"' "$work/server.log" | head -n 20 >&2
    exit 1
fi
echo "-- contract holds on $backend"
