#!/usr/bin/env bash
# Serving per-token cost against the decoder's own step (issue 11): `r1serve serve` on random weights of a
# distill's shape, streamed /v1/completions with ignore_eos from 1 and 8 concurrent clients (`r1serve bench`),
# greedy and at R1's sampling defaults (temperature 0.6, top_p 0.95), beside `r1serve perf`'s decode step at
# batch 1 and 8 on the same weights. Measure on a quiet machine (check `uptime`); both print what they ran.
#   bench/serving/serving_itl.sh [MODEL_DIR]    (BUILD, DTYPE, THREADS, GEN, PORT override the defaults)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B}
BUILD=${BUILD:-build/release}
DTYPE=${DTYPE:-q4}
THREADS=${THREADS:-2}
GEN=${GEN:-128}
PORT=${PORT:-8123}
BIN=$BUILD/apps/r1serve/r1serve
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
VOCAB=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]+'/config.json'))['vocab_size'])" "$MODEL")
python3 bench/serving/make_bytelevel_tokenizer.py --vocab "$VOCAB" --out "$TMP/tok" >/dev/null
# 16 prompts of ~100 tokens (bytes, under the synthetic tokenizer).
for i in $(seq 1 16); do
  printf 'Natalia sold clips to %d of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?\n' "$((40 + i))"
done >"$TMP/prompts.txt"
echo "# $(date -u +%FT%TZ) $(uptime)"
echo "# model $MODEL dtype $DTYPE threads $THREADS gen $GEN; host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)"
# perf decodes from the depth the served requests reach halfway (~100 prompt tokens + GEN/2), so both read
# the same KV bytes per step.
"$BIN" perf --model "$MODEL" --load-format dummy --dtype "$DTYPE" --threads "$THREADS" --prompt-tokens 128 \
  --depth 100 --gen-tokens "$GEN" --batch 1,8 --repeat 2 2>/dev/null | grep -v '^\[' || true
"$BIN" serve --model "$MODEL" --load-format dummy --dtype "$DTYPE" --threads "$THREADS" --tokenizer "$TMP/tok" \
  --port "$PORT" --max-num-seqs 16 >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/health" >/dev/null && break; sleep 1; done
# The engine loop's own split over a run, from /metrics: mean seconds of a pure decode step (no prompt chunk
# joined it: comparable with perf's step) and of delivering its outputs.
engine_totals() {
  curl -s "localhost:$PORT/metrics" | awk '/^r1serve_engine_steps_total.*decode_only/ {n=$2}
    /^r1serve_engine_step_seconds_total.*decode_only/ {s=$2} /^r1serve_engine_output_seconds_total.*decode_only/ {o=$2}
    END {print n, s, o}'
}
engine_split() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1];
    if (n > 0) printf "engine: %d steps, %.2f ms a step, %.3f ms delivering its outputs\n", n, 1e3 * (y[2] - x[2]) / n, 1e3 * (y[3] - x[3]) / n }'
}
# Warm-up outside the timed runs (and outside the /metrics deltas): one request at each setting.
for b in '"temperature": 0' '"temperature": 0.6, "top_p": 0.95'; do
  curl -sf "localhost:$PORT/v1/completions" -H 'Content-Type: application/json' \
    -d "{\"prompt\": \"Natalia sold clips\", \"max_tokens\": 16, \"ignore_eos\": true, $b}" >/dev/null
done
for setting in greedy r1; do
  if [ $setting = greedy ]; then body='{"ignore_eos": true, "temperature": 0}'; else body='{"ignore_eos": true, "temperature": 0.6, "top_p": 0.95}'; fi
  # 1 and 8 streams in a closed loop (a finished stream's successor prefills while the others decode), then 8
  # admitted at once (--rate inf: after their prefills, every timed step is a pure batch-8 decode, as in perf).
  for c in 1 8 8-at-once; do
    echo "## $setting, $c stream(s)"
    if [ "$c" = 8-at-once ]; then load=(--num-prompts 8 --rate inf); else load=(--num-prompts $((c == 1 ? 4 : 16)) --concurrency "$c"); fi
    before=$(engine_totals)
    "$BIN" bench --endpoint r1serve=http://127.0.0.1:$PORT --api completion --dataset "$TMP/prompts.txt" \
      "${load[@]}" --warmup 0 --runs 1 --max-tokens "$GEN" --extra-body "$body" \
      --json "$TMP/$setting-$c.json" 2>/dev/null | grep -E "ITL|TPOT|output tokens/s|TTFT" || true
    after=$(engine_totals)
    engine_split "$before" "$after"
  done
done
