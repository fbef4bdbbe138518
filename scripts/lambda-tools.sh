#!/usr/bin/env bash
# Installs the pinned tools of the AWS Lambda shape (deploy/aws/requirements.txt: cargo-lambda,
# cfn-lint) into target/lambda/venv, once (again when the pins change), and prints the directory
# holding their commands.
#
#   PATH="$(scripts/lambda-tools.sh):$PATH" cargo lambda --version
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/lambda
if [ ! -x "$tools/venv/bin/cargo-lambda" ] || [ ! -x "$tools/venv/bin/cfn-lint" ] \
    || ! cmp -s deploy/aws/requirements.txt "$tools/requirements.installed"; then
    mkdir -p "$tools"
    python3 -m venv "$tools/venv" >&2
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/aws/requirements.txt >&2
    cp deploy/aws/requirements.txt "$tools/requirements.installed"
fi
echo "$PWD/$tools/venv/bin"
