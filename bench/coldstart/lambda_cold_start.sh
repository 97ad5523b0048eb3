#!/usr/bin/env bash
# Lambda cold start (issue 17) for the 1.5B dummy package of cold_start.sh, imported with `--dtype q8` (run that
# first): `r1serve lambda` from process start to its first answer, through the real Lambda SDK and the Runtime
# API double. Page cache warmed first (the weight file read once), as on a warm Lambda host's disk cache — a
# first start on a fresh host also reads the image from storage, which this does not measure.
#   bench/coldstart/lambda_cold_start.sh   (WORK, BUILD, RUNS, THREADS, NAME, R1SERVE_HOME override the defaults)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/r1-coldstart}
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
NAME=${NAME:-deepseek-r1-distill-qwen-1.5b:q8}
export R1SERVE_HOME=${R1SERVE_HOME:-$WORK/store}
BIN=$BUILD/apps/r1serve/r1serve
"$BIN" show "$NAME" >/dev/null || { echo "no $NAME in $R1SERVE_HOME: run bench/coldstart/cold_start.sh first" >&2; exit 1; }
cat "$R1SERVE_HOME/models/${NAME%%:*}/${NAME#*:}/weights.r1pack" >/dev/null
uptime
node bench/coldstart/lambda_cold_start.mjs "$BIN" "$PWD/tests/js" "$NAME" "$RUNS" --threads "$THREADS" --kv-cache-memory 256MiB
