#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a few seconds (argument: seconds per target).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
cmake --preset fuzz >/dev/null
targets=$(sed -n 's/^r1_fuzz_target(\([a-z_0-9]*\).*/\1/p' fuzz/CMakeLists.txt)
cmake --build --preset fuzz --target $targets -j"$(nproc)"
for t in $targets; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzzing $t for ${secs}s"
  build/fuzz/fuzz/"$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "$corpus" 2>&1 | tail -4
  rm -rf "$corpus"
done
