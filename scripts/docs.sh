#!/usr/bin/env bash
# Regenerates docs/configuration.md from the binary's own --help (a test fails on drift).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p bootstrap -- config-reference > docs/configuration.md
echo "docs/configuration.md regenerated"
