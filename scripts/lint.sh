#!/usr/bin/env bash
# Format check and clippy with every warning an error.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The SAM template of the Lambda shape, with cfn-lint (pinned in deploy/aws/requirements.txt).
"$(scripts/lambda-tools.sh)/cfn-lint" deploy/aws/template.yaml
