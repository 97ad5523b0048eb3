#!/usr/bin/env bash
# Serverless cold start (issue 15) through the product's own path: `r1serve serve` with a store model loaded on
# demand, and `r1serve bench --cold-start` (unload with keep_alive 0, then time the first request, load
# included, beside the same prompt warm). The model is the 1.5B dummy package of cold_start.sh, imported with
# `--dtype q8`, so a load reads the store's packed weight file. Page cache warmed first (the file read once).
#   bench/coldstart/serverless_cold_start.sh   (WORK, BUILD, RUNS, THREADS, PORT, NAME, R1SERVE_HOME override the defaults; run
#   cold_start.sh first, or point PKG at a package folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/r1-coldstart}
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
PORT=${PORT:-8132}
PKG=${PKG:-$WORK/DeepSeek-R1-Distill-Qwen-1.5B}
BIN=$BUILD/apps/r1serve/r1serve
export R1SERVE_HOME=${R1SERVE_HOME:-$WORK/store}
NAME=${NAME:-qwen15:q8}
"$BIN" show "$NAME" >/dev/null 2>&1 || "$BIN" import "$PKG" --name "$NAME" --dtype q8
cat "$R1SERVE_HOME/models/${NAME%%:*}/${NAME#*:}/weights.r1pack" >/dev/null
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
echo "# $(date -u +%FT%TZ) $(uptime); $(git rev-parse --short HEAD); threads $THREADS"
"$BIN" serve --model "qwen=$NAME" --threads "$THREADS" --kv-cache-memory 256MiB --load-wait 600 --port "$PORT" \
  >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/health" >/dev/null && break; sleep 0.5; done
printf 'Once upon a time\n' >"$TMP/prompts.txt"
"$BIN" bench --endpoint r1serve=http://127.0.0.1:$PORT --model qwen --dataset "$TMP/prompts.txt" --num-prompts 1 \
  --api completion --max-tokens 16 --temperature 0 --runs "$RUNS" --cold-start 2>/dev/null | grep -E "TTFT|latency|endpoint +load +metric"
grep -E "loaded in|unloaded" "$TMP/server.log" | sed 's/^\[[^]]*\] \[[^]]*\] //' || true
echo "# $(uptime)"
