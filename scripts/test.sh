#!/usr/bin/env bash
# Runs every test on a fresh machine: unit tests of each crate, then, once per storage backend, the
# storage conformance suite, the end-to-end suite, the storage call counts and the third-party
# contract checks (scripts/contract.sh). Installs and starts whatever they need itself
# (PostgreSQL: scripts/postgres.sh; DynamoDB Local: scripts/dynamodb.sh).
#
#   scripts/test.sh                      # every backend
#   TESSERA_TEST_BACKENDS=sqlite scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

backends=${TESSERA_TEST_BACKENDS:-sqlite postgres dynamodb}
scratch=$(mktemp -d)
cleanup() {
    [ -d "$scratch/postgres" ] && scripts/postgres.sh stop "$scratch/postgres" || true
    [ -d "$scratch/dynamodb" ] && scripts/dynamodb.sh stop "$scratch/dynamodb" || true
    rm -rf "$scratch"
}
trap cleanup EXIT

if cargo nextest --version >/dev/null 2>&1; then
    run_tests() { cargo nextest run --locked --no-fail-fast "$@"; }
else
    run_tests() { cargo test --locked --no-fail-fast "$@"; }
fi

echo "== unit tests and the spec drift check"
run_tests --workspace --exclude tessera-tests
run_tests -p tessera-tests --test openapi

for backend in $backends; do
    echo "== conformance and end-to-end suites on $backend"
    case "$backend" in
        postgres)
            TESSERA_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$scratch/postgres")
            export TESSERA_TEST_POSTGRES_URL
            ;;
        dynamodb)
            # A random access key gives this run a database of its own inside DynamoDB Local.
            AWS_ENDPOINT_URL_DYNAMODB=$(scripts/dynamodb.sh start "$scratch/dynamodb")
            AWS_ACCESS_KEY_ID="test$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
            export AWS_ENDPOINT_URL_DYNAMODB AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
            ;;
    esac
    TESSERA_TEST_BACKEND=$backend run_tests -p tessera-tests --test conformance --test e2e --test statements
    echo "== the contract from the outside on $backend (spec validators, schemathesis)"
    scripts/contract.sh "$backend"
    case "$backend" in
        postgres)
            echo "== PostgreSQL faults and query plans"
            run_tests -p tessera-tests --test postgres
            ;;
        dynamodb)
            echo "== DynamoDB faults"
            # One at a time: each starts a DynamoDB Local of its own and times its faults.
            NEXTEST_TEST_THREADS=1 RUST_TEST_THREADS=1 run_tests -p tessera-tests --test dynamodb
            ;;
    esac
done
echo "== all tests passed on: $backends"
