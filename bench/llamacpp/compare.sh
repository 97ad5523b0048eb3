#!/usr/bin/env bash
# r1serve against llama.cpp on this machine, same shape, same threads, same formats: writes GGUF files of
# r1serve's dummy weights for a model folder's config.json, runs llama.cpp (node-llama-cpp's prebuilt CPU
# build) on them, then `r1serve perf` right after, and prints both side by side. For q8_0/q4_0/f16 r1serve
# makes the same weights itself (--load-format dummy --dtype q8|q4|bf16); for the k-quant mixes
# (q4_k_m, q5_k_m, q6_k) it runs on the very GGUF file llama.cpp ran (--model FILE.gguf --dtype auto).
# A benchmark tool, not part of CI. Run it on a quiet machine for figures worth keeping (README.md).
#
#   bench/llamacpp/compare.sh [MODEL_DIR]     default: ../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B
#
# Environment: BUILD (default build/release), THREADS (2), REPEAT (3), FORMATS ("q8_0 q4_0"; any of q8_0 q4_0
# f16 q4_k_m q5_k_m q6_k),
# PROMPT_TOKENS (512), GEN_TOKENS (128), LLAMA_ARGS (extra llamacpp_bench.mjs flags), TMPDIR.
# DEPTHS (e.g. 128,1024,4096,8192): decode at those depths instead (llama-bench's -d; no pp), llama.cpp with its
# F16 KV cache, r1serve with each of KV_DTYPES ("f32 bf16 f16").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/llamacpp
model=${1:-$root/../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B}
build=${BUILD:-$root/build/release}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
formats=${FORMATS:-q8_0 q4_0}
pp=${PROMPT_TOKENS:-512}
tg=${GEN_TOKENS:-128}
depths=${DEPTHS:-}
kv_dtypes=${KV_DTYPES:-f32 bf16 f16}

gen=$build/bench/make_dummy_gguf
r1serve=$build/apps/r1serve/r1serve
for exe in "$gen" "$r1serve"; do
  [[ -x $exe ]] || { echo "compare.sh: $exe not built (cmake --build ${build#"$root"/} -j2)" >&2; exit 1; }
done
[[ -f $model/config.json ]] || { echo "compare.sh: no config.json in $model" >&2; exit 1; }
if [[ ! -d $here/node_modules/node-llama-cpp ]]; then
  echo "compare.sh: node-llama-cpp missing: npm install --prefix bench/llamacpp --no-save (README.md)" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/r1-llamacpp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== $(date -u +%FT%TZ) $(hostname), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $model, $threads threads, pp$pp / tg$tg, $repeat runs each (+1 warm-up)"
ggufs=()
for f in $formats; do
  "$gen" --model "$model" --out "$tmp/$f.gguf" --type "$f" --threads "$threads"
  ggufs+=(--model "$tmp/$f.gguf")
done

# r1serve perf's model and weight arguments for format $1: its own dummy weights in the matching precision, or
# the k-quant file itself (kept until r1serve has run on it).
r1_model_args() {
  case $1 in
    q4_k_m | q5_k_m | q6_k) echo "--model $tmp/$1.gguf --dtype auto" ;;
    f16) echo "--model $model --load-format dummy --dtype bf16" ;;  # r1serve has no F16 weights; BF16 is the same size
    *) echo "--model $model --load-format dummy --dtype ${1%_0}" ;;  # q8_0 -> q8, q4_0 -> q4
  esac
}

echo "== llama.cpp"
depth_args=()
[[ -n $depths ]] && depth_args=(--depth "$depths")
# shellcheck disable=SC2086
node "$here/llamacpp_bench.mjs" "${ggufs[@]}" --threads "$threads" --repeat "$repeat" \
  --prompt-tokens "$pp" --gen-tokens "$tg" "${depth_args[@]}" ${LLAMA_ARGS:-} | tee "$tmp/llamacpp.txt"
for f in $formats; do
  case $f in q4_k_m | q5_k_m | q6_k) ;; *) rm -f "$tmp/$f.gguf" ;; esac  # r1serve reads only the k-quant files
done

if [[ -n $depths ]]; then
  echo "== r1serve perf"
  for f in $formats; do
    for kv in $kv_dtypes; do
      # shellcheck disable=SC2046
      "$r1serve" perf $(r1_model_args "$f") --threads "$threads" \
        --kv-cache-dtype "$kv" --prompt-tokens 16 --gen-tokens "$tg" --batch 1 --depth "$depths" \
        --repeat "$repeat" --json | tee -a "$tmp/r1serve.txt"
    done
  done
  echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  node - "$tmp/llamacpp.txt" "$tmp/r1serve.txt" "$tg" "$kv_dtypes" <<'EOF'
const fs = require("fs");
const [llamaFile, r1File, tg, kvs] = process.argv.slice(2);
const jsonLines = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const llama = jsonLines(llamaFile), r1 = jsonLines(r1File), kvList = kvs.split(" ");
const fmt = (s) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
// An r1serve perf line for llama.cpp's file `label`: its own dummy weights in the matching precision, or (the
// k-quant mixes) the same GGUF file.
const sameFormat = (x, label) =>
  x.model.endsWith(`/${label}.gguf`) || x.dtype === ({q8_0: "q8", q4_0: "q4", f16: "bf16"}[label] ?? "-");
console.log(`\n| format | depth | llama.cpp tg${tg} f16 KV | (its counter) | ` +
            kvList.map((k) => `r1serve tg${tg} ${k} KV`).join(" | ") + " |");
console.log("|---|---|---|---|" + kvList.map(() => "---|").join(""));
for (const l of llama) {
  const cells = kvList.map((k) => {
    const r = r1.find((x) => sameFormat(x, l.label) && x.depth === l.depth && x.kv_cache_dtype === k);
    return r ? fmt(r.decode_tok_s) : "-";
  });
  console.log(`| ${l.label} | ${l.depth} | ${fmt(l.tg_tok_s)} | ${fmt(l.llama_counters.tg_tok_s)} | ${cells.join(" | ")} |`);
}
EOF
  exit 0
fi

echo "== r1serve perf"
for f in $formats; do
  # shellcheck disable=SC2046
  "$r1serve" perf $(r1_model_args "$f") --threads "$threads" \
    --prompt-tokens "$pp" --gen-tokens "$tg" --batch 1 --repeat "$repeat" --json | tee -a "$tmp/r1serve.txt"
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

node - "$tmp/llamacpp.txt" "$tmp/r1serve.txt" "$pp" "$tg" <<'EOF'
const fs = require("fs");
const [llamaFile, r1File, pp, tg] = process.argv.slice(2);
const jsonLines = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const llama = jsonLines(llamaFile), r1 = jsonLines(r1File);
const fmt = (s) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
// An r1serve perf line for llama.cpp's file `label`: its own dummy weights in the matching precision, or (the
// k-quant mixes) the same GGUF file.
const sameFormat = (x, label) =>
  x.model.endsWith(`/${label}.gguf`) || x.dtype === ({q8_0: "q8", q4_0: "q4", f16: "bf16"}[label] ?? "-");
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : "-");
console.log(`\n| format | llama.cpp pp${pp} | (its counter) | r1serve pp${pp} | r1serve/llama.cpp | ` +
            `llama.cpp tg${tg} | (its counter) | r1serve tg${tg} | r1serve/llama.cpp |`);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const l of llama) {
  const r = r1.find((x) => sameFormat(x, l.label));
  // Ratios against the faster of llama.cpp's two figures (its own counter leaves out the binding's overhead).
  const best = (a, b) => Math.max(a.median, b.median);
  const cells = [l.label, fmt(l.pp_tok_s), fmt(l.llama_counters.pp_tok_s), r ? fmt(r.prefill_tok_s) : "-",
                 r ? ratio(r.prefill_tok_s.median, best(l.pp_tok_s, l.llama_counters.pp_tok_s)) : "-",
                 fmt(l.tg_tok_s), fmt(l.llama_counters.tg_tok_s), r ? fmt(r.decode_tok_s) : "-",
                 r ? ratio(r.decode_tok_s.median, best(l.tg_tok_s, l.llama_counters.tg_tok_s)) : "-"];
  console.log(`| ${cells.join(" | ")} |`);
}
console.log(`\nllama.cpp ${llama[0]?.llama_cpp_release} (${llama[0]?.build_type}), CPU backend ${llama[0]?.cpu_backend}, ` +
            `flash attention ${llama[0]?.flash_attention}; r1serve kernels ${r1[0]?.isa}. Tok/s: median (min-max). ` +
            `"its counter": llama.cpp's own llama_perf timings (inside llama_decode only); the other llama.cpp ` +
            `columns are wall-clock through the binding. r1serve/llama.cpp: r1serve's median over the higher ` +
            `of llama.cpp's two medians.`);
EOF
