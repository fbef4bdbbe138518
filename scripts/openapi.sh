#!/usr/bin/env bash
# Regenerates openapi/openapi.json and openapi/openapi.yaml from the code.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p bootstrap -- openapi > openapi/openapi.json
cargo run --quiet -p bootstrap -- openapi --yaml > openapi/openapi.yaml
echo "openapi/ regenerated"
