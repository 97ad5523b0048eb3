#!/usr/bin/env bash
# Builds r1serve and runs every test (unit, golden, e2e), then fuzzes the untrusted-input parsers briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# JavaScript oracles and clients the tests compare against (pinned in tests/js/package-lock.json).
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
cmake --preset release >/dev/null
cmake --build --preset release -j"$jobs"
ctest --preset release -j"$jobs" --timeout 600
bash scripts/fuzz.sh "${R1_FUZZ_SECONDS:-20}"
