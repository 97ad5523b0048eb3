#!/usr/bin/env bash
# Cold start (issue 14): seconds from starting `r1serve serve` to ready (/health answers 200) and to the first
# token (a 1-token /v1/completions answered), loading a real package of random weights of a distill's shape
# from safetensors (converting at load) versus from the store's packed weight file (no conversion). The page
# cache is warmed first (each file read once), so this measures r1serve, not the disk. Prints every run, then
# the best and the median of each; check `uptime` (printed) — the host is shared.
#   bench/coldstart/cold_start.sh [CONFIG_DIR]   (WORK, BUILD, DTYPE, RUNS, THREADS, PORT override the defaults;
#   ONLY=packed or ONLY=safetensors runs one variant: a safetensors run just before disturbs the packed ones)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B}
WORK=${WORK:-/tmp/r1-coldstart}
BUILD=${BUILD:-build/release}
DTYPE=${DTYPE:-q8}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
PORT=${PORT:-8131}
BIN=${BIN:-$BUILD/apps/r1serve/r1serve}
MAKE_DUMMY=${MAKE_DUMMY:-$BUILD/bench/make_dummy_safetensors}
BASE=$(basename "$MODEL")
PKG=$WORK/$BASE
export R1SERVE_HOME=$WORK/store
NAME=$(echo "$BASE" | tr 'A-Z' 'a-z'):$DTYPE
if [ ! -f "$PKG/model.safetensors" ]; then
  "$MAKE_DUMMY" --model "$MODEL" --out "$PKG"
  VOCAB=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]+'/config.json'))['vocab_size'])" "$MODEL")
  python3 bench/serving/make_bytelevel_tokenizer.py --vocab "$VOCAB" --out "$PKG" >/dev/null
fi
"$BIN" show "$NAME" >/dev/null 2>&1 || "$BIN" import "$PKG" --name "$NAME" --dtype "$DTYPE" 2>/dev/null
now() { date +%s.%N; }
# measure LABEL MODEL FILE_TO_WARM
measure() {
  cat "$3" >/dev/null
  local ready=() first=() cpu=()
  for i in $(seq 1 "$RUNS"); do
    local t0 t1 t2
    t0=$(now)
    "$BIN" serve --model "$2" --dtype "$DTYPE" --threads "$THREADS" --port "$PORT" --kv-cache-memory 256MiB \
      >"$WORK/server.log" 2>&1 &
    local pid=$!
    until curl -sf "localhost:$PORT/health" >/dev/null 2>&1; do
      kill -0 $pid 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
      sleep 0.01
    done
    t1=$(now)
    # CPU seconds the process used up to ready (user + system, all its threads): what a busy host cannot
    # inflate the way it inflates wall time.
    cpu+=("$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' /proc/$pid/stat)")
    curl -sf "localhost:$PORT/v1/completions" -H 'Content-Type: application/json' \
      -d '{"prompt": "Hello", "max_tokens": 1, "temperature": 0}' >/dev/null
    t2=$(now)
    kill $pid
    wait $pid 2>/dev/null || true
    ready+=("$(echo "$t1 - $t0" | bc)")
    first+=("$(echo "$t2 - $t0" | bc)")
    echo "$1 run $i: ready $(printf %.2f "${ready[-1]}") s, first token $(printf %.2f "${first[-1]}") s, CPU to ready ${cpu[-1]} s ($(grep -o 'loaded in [0-9.]* s' "$WORK/server.log"))"
  done
  stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "best %.2f s, median %.2f s", a[1], a[int((NR+1)/2)]}'; }
  echo "$1: ready $(stats "${ready[@]}"); first token $(stats "${first[@]}"); CPU to ready $(stats "${cpu[@]}")"
}
echo "# $(date -u +%FT%TZ) $(uptime)"
echo "# $BASE, dtype $DTYPE, threads $THREADS, $(nproc) cores; host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
ls -l "$PKG/model.safetensors" "$R1SERVE_HOME/models/${NAME%%:*}/$DTYPE/weights.r1pack" | awk '{print "# " $5 " bytes " $9}'
ONLY=${ONLY:-}
[ "$ONLY" = packed ] || measure "safetensors (convert to $DTYPE at load)" "$PKG" "$PKG/model.safetensors"
[ "$ONLY" = safetensors ] || measure "packed $DTYPE (r1serve import --dtype $DTYPE)" "$NAME" "$R1SERVE_HOME/models/${NAME%%:*}/$DTYPE/weights.r1pack"
echo "# $(date -u +%FT%TZ) $(uptime)"
