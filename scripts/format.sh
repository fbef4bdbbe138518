#!/usr/bin/env bash
# Formats the code in place.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all
