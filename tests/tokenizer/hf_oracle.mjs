// The second oracle: @lenml/tokenizers (a JavaScript port of Hugging Face's tokenizers, via transformers.js)
// encoding the same texts the C++ tests encode.
//   node hf_oracle.mjs TOKENIZER_JSON CONFIG_JSON TEXTS_JSON OUT_JSON   -> OUT_JSON: ids per text (add_special_tokens)
//   node hf_oracle.mjs TOKENIZER_JSON CONFIG_JSON TEXTS_JSON --bench N  -> one JSON line: encode speed of the
//                                                                         texts concatenated, best of N runs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = process.env.R1_JS_DIR || path.join(here, "..", "js");
const { TokenizerLoader } = await import(
  pathToFileURL(path.join(jsDir, "node_modules/@lenml/tokenizers/dist/main.mjs")).href
);

const [tokenizerJson, configJson, textsJson, out, runs] = process.argv.slice(2);
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(tokenizerJson, "utf8")),
  tokenizerConfig: configJson ? JSON.parse(fs.readFileSync(configJson, "utf8")) : {},
});
const texts = JSON.parse(fs.readFileSync(textsJson, "utf8"));

if (out === "--bench") {
  const text = texts.join("\n");
  const bytes = Buffer.byteLength(text, "utf8");
  let best = Infinity, nIds = 0;
  for (let r = 0; r < Number(runs || 3); ++r) {
    const t0 = process.hrtime.bigint();
    nIds = tok.encode(text, { add_special_tokens: false }).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(JSON.stringify({ bytes, ids: nIds, seconds: best, mb_per_s: bytes / 1e6 / best }));
} else {
  fs.writeFileSync(out, JSON.stringify(texts.map((t) => tok.encode(t, { add_special_tokens: true }))));
}
