#!/usr/bin/env node
// llama.cpp's CPU speed on a GGUF file, measured like llama-bench: pp = one batch of random token ids on an
// empty context, tg = single-token decode steps, each with its logits and a greedy pick. Runs the llama.cpp
// that node-llama-cpp ships prebuilt (no GPU, no build from source). See README.md beside this file.
//
//   node bench/llamacpp/llamacpp_bench.mjs --model /tmp/q8_0.gguf --model /tmp/q4_0.gguf --threads 2
//
// Prints one human line and one JSON line per model.
import {parseArgs} from "node:util";
import path from "node:path";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const {values: args} = parseArgs({
  options: {
    model: {type: "string", multiple: true},
    threads: {type: "string", default: "2"},
    "prompt-tokens": {type: "string", default: "512"},
    "gen-tokens": {type: "string", default: "128"},
    repeat: {type: "string", default: "3"},
    "context-size": {type: "string", default: "1024"},
    "batch-size": {type: "string", default: "512"},
    // on: llama.cpp's "auto" turns it on for the CPU backend, and it is the faster setting for pp here
    // (+6% at pp512, tg unchanged within noise); off for the classic llama-bench default.
    "flash-attention": {type: "string", default: "on"},
    "tg-context": {type: "string", default: "empty"},      // empty (llama-bench, r1serve perf) | after-prompt
    // Depths (comma-separated, e.g. 128,1024,4096,8192): tg at each after that many positions of context, as
    // llama-bench's -d (pp is skipped). The context is filled once, deepest last, and each run's decoded
    // tokens are erased again, so 8K of context costs one 8K prefill, not one per run.
    depth: {type: "string", default: ""},
    seed: {type: "string", default: "1"},
    "llama-log": {type: "boolean", default: false},       // print llama.cpp's own log to stderr
    help: {type: "boolean", default: false},
  },
});
if (args.help || !args.model?.length) {
  console.log(`usage: node llamacpp_bench.mjs --model FILE.gguf [--model FILE2.gguf ...] [--threads 2]
  [--prompt-tokens 512] [--gen-tokens 128] [--repeat 3] [--context-size 1024] [--batch-size 512]
  [--flash-attention on|off|auto] [--tg-context empty|after-prompt] [--depth 128,1024,...] [--seed 1]
  [--llama-log]`);
  process.exit(args.help ? 0 : 2);
}
const int = (k) => {
  const v = Number(args[k]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${k} must be a positive integer, got ${args[k]}`);
  return v;
};
const threads = int("threads"), nPrompt = int("prompt-tokens"), nGen = int("gen-tokens"), repeat = int("repeat");
const contextSize = int("context-size"), batchSize = int("batch-size"), seed = int("seed");
const flashAttention = {off: false, on: true, auto: "auto"}[args["flash-attention"]];
if (flashAttention === undefined) throw new Error("--flash-attention must be off, on or auto");
if (!["empty", "after-prompt"].includes(args["tg-context"])) throw new Error("--tg-context must be empty or after-prompt");
const tgAfterPrompt = args["tg-context"] === "after-prompt";
if (batchSize < nPrompt) throw new Error(`--batch-size ${batchSize} < --prompt-tokens ${nPrompt}: the prompt must be one batch`);
const depths = args.depth ? args.depth.split(",").map(Number) : [];
if (depths.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`--depth must list positive integers, got ${args.depth}`);
depths.sort((a, b) => a - b);
// With --depth the context is sized for the deepest run instead of --context-size.
const ctxSize = depths.length ? depths.at(-1) + nGen + 1 : contextSize;
if (ctxSize < nPrompt + nGen + 1 && !depths.length) throw new Error(`--context-size ${contextSize} cannot hold ${nPrompt} + ${nGen} tokens`);

// llama.cpp's log: kept in memory, parsed for the CPU backend it loaded and for its own perf counters.
let log = [];
let cpuBackend = "unknown";  // ggml logs the CPU backend it loads; the message may arrive after getLlama returns
const llama = await getLlama({
  gpu: false,            // the CPU build only
  build: "never",        // never download or compile llama.cpp: the prebuilt binary or an error
  usePrebuiltBinaries: true,
  maxThreads: 0,         // the context's thread count is then used as is
  logLevel: LlamaLogLevel.debug,
  logger: (level, message) => {
    log.push(message);
    const m = message.match(/loaded CPU backend from (\S+)/);
    if (m) cpuBackend = path.basename(m[1]);
    if (args["llama-log"]) process.stderr.write(message);
  },
});
const info = {
  llama_cpp_release: llama.llamaCppRelease.release,
  build_type: llama.buildType,
  gpu: llama.gpu,
  system_info: llama.systemInfo.trim(),
};
console.log(`llama.cpp ${info.llama_cpp_release} (${info.build_type}, node-llama-cpp), gpu ${info.gpu}; ${info.system_info}`);

// mulberry32: the same random ids every run of the script.
function rng(s) {
  return () => {
    s = (s + 0x6D2B79F5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s.at(-1), runs: xs};
};
// llama_perf_context_print's counters since the last print (the binding resets them after printing):
// "prompt eval time = X ms / N tokens" (multi-token decodes) and "eval time = X ms / N runs" (single-token).
async function llamaTimings(ctx) {
  log = [];
  await ctx.printTimings();
  const text = log.join("");
  const grab = (re) => {
    const m = text.match(re);
    return m ? {ms: Number(m[1]), n: Number(m[2])} : null;
  };
  return {prompt: grab(/prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/),
          eval: grab(/\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/)};
}
const tps = (t) => (t && t.ms > 0 ? (t.n * 1000) / t.ms : null);

for (const modelPath of args.model) {
  const t0 = performance.now();
  const model = await llama.loadModel({modelPath, gpuLayers: 0});
  const loadS = (performance.now() - t0) / 1000;
  const ctx = await model.createContext({
    contextSize: ctxSize, batchSize, threads, flashAttention, sequences: 1, performanceTracking: true,
    failedCreationRemedy: false,
  });
  const seq = ctx.getSequence();
  const md = model.fileInfo.metadata;
  const nVocab = md[md.general.architecture]?.vocab_size ?? md.tokenizer?.ggml?.tokens?.length;
  if (!Number.isInteger(nVocab) || nVocab <= 0) throw new Error(`${modelPath}: cannot tell the vocabulary size`);
  const next = rng(seed);
  const randomTokens = (n) => Array.from({length: n}, () => Math.floor(next() * nVocab));
  const ftype = md.general.file_type;
  const label = path.basename(modelPath).replace(/\.gguf$/, "");
  console.log(`${label}: ${modelPath}, ${(model.size / 1e6).toFixed(0)} MB, file_type ${ftype}, vocab ${nVocab}, ` +
              `load ${loadS.toFixed(1)} s, threads ${ctx.currentThreads}, context ${ctx.contextSize}, ` +
              `batch ${ctx.batchSize}, flash attention ${ctx.flashAttention}, CPU backend ${cpuBackend}`);

  // nGen single-token decode steps after what the sequence holds, each with its logits and a greedy pick
  // (llama-bench decodes a random next token instead; the pick over the vocabulary costs well under 1% of a
  // step). Returns the wall-clock seconds.
  async function decodeSteps() {
    const inputs = randomTokens(nGen);
    const t = performance.now();
    for (let i = 0; i < nGen; ++i) {
      const out = await seq.controlledEvaluate([[inputs[i], {generateNext: {token: true, options: {temperature: 0}}}]]);
      if (out[0]?.next?.token == null) throw new Error(`decode step ${i} produced no token`);
    }
    return (performance.now() - t) / 1000;
  }

  if (depths.length) {
    await seq.clearHistory();
    for (const depth of depths) {
      let t = performance.now();
      await seq.evaluateWithoutGeneratingNewTokens(randomTokens(depth - seq.nextTokenIndex));
      const fillS = (performance.now() - t) / 1000;
      const tg = [], tgLlama = [];
      for (let r = 0; r <= repeat; ++r) {  // run 0 is the warm-up
        await llamaTimings(ctx);
        const tgS = await decodeSteps();
        const tgT = await llamaTimings(ctx);
        await seq.eraseContextTokenRanges([{start: depth, end: seq.nextTokenIndex}]);
        if (seq.nextTokenIndex !== depth) throw new Error(`context holds ${seq.nextTokenIndex} tokens, expected ${depth}`);
        console.log(`  d${depth} ${r === 0 ? "warm-up" : `run ${r}  `} tg${nGen} ${(nGen / tgS).toFixed(2)} tok/s ` +
                    `(counter ${tps(tgT.eval)?.toFixed(2)})`);
        if (r === 0) continue;
        tg.push(nGen / tgS);
        tgLlama.push(tps(tgT.eval));
      }
      const tgS = stats(tg);
      console.log(`${label}: tg${nGen} at depth ${depth} ${tgS.median.toFixed(2)} tok/s ` +
                  `(${tgS.min.toFixed(2)}-${tgS.max.toFixed(2)}), ${repeat} runs; context filled in ${fillS.toFixed(1)} s`);
      console.log(JSON.stringify({
        engine: "llama.cpp", ...info, cpu_backend: cpuBackend, model: modelPath, label, file_type: ftype,
        model_bytes: model.size, threads: ctx.currentThreads, context_size: ctx.contextSize,
        batch_size: ctx.batchSize, flash_attention: ctx.flashAttention, depth, gen_tokens: nGen, repeat,
        load_s: loadS, fill_s: fillS, tg_tok_s: tgS, llama_counters: {tg_tok_s: stats(tgLlama)},
      }));
    }
    await ctx.dispose();
    await model.dispose();
    continue;
  }

  const pp = [], tg = [], ppLlama = [], tgLlama = [];
  for (let r = 0; r <= repeat; ++r) {  // run 0 is the warm-up
    await seq.clearHistory();
    await llamaTimings(ctx);  // reset the counters
    const prompt = randomTokens(nPrompt);
    let t = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(prompt);
    const ppS = (performance.now() - t) / 1000;
    const ppT = await llamaTimings(ctx);

    if (!tgAfterPrompt) await seq.clearHistory();
    await llamaTimings(ctx);
    const tgS = await decodeSteps();
    const tgT = await llamaTimings(ctx);
    if (seq.nextTokenIndex !== (tgAfterPrompt ? nPrompt : 0) + nGen)
      throw new Error(`context holds ${seq.nextTokenIndex} tokens, expected ${(tgAfterPrompt ? nPrompt : 0) + nGen}`);
    const line = `pp${nPrompt} ${(nPrompt / ppS).toFixed(2)} tok/s (llama.cpp's counter ${tps(ppT.prompt)?.toFixed(2)}), ` +
                 `tg${nGen} ${(nGen / tgS).toFixed(2)} tok/s (counter ${tps(tgT.eval)?.toFixed(2)})`;
    console.log(`  ${r === 0 ? "warm-up" : `run ${r}  `} ${line}`);
    if (r === 0) continue;
    pp.push(nPrompt / ppS);
    tg.push(nGen / tgS);
    ppLlama.push(tps(ppT.prompt));
    tgLlama.push(tps(tgT.eval));
  }
  const ppS = stats(pp), tgS = stats(tg);
  console.log(`${label}: pp${nPrompt} ${ppS.median.toFixed(2)} tok/s (${ppS.min.toFixed(2)}-${ppS.max.toFixed(2)}), ` +
              `tg${nGen} ${tgS.median.toFixed(2)} tok/s (${tgS.min.toFixed(2)}-${tgS.max.toFixed(2)}), ${repeat} runs`);
  console.log(JSON.stringify({
    engine: "llama.cpp", ...info, cpu_backend: cpuBackend, model: modelPath, label, file_type: ftype, model_bytes: model.size,
    threads: ctx.currentThreads, context_size: ctx.contextSize, batch_size: ctx.batchSize,
    flash_attention: ctx.flashAttention, tg_context: args["tg-context"], prompt_tokens: nPrompt, gen_tokens: nGen,
    repeat, load_s: loadS, pp_tok_s: ppS, tg_tok_s: tgS,
    llama_counters: {pp_tok_s: stats(ppLlama), tg_tok_s: stats(tgLlama)},
  }));
  await ctx.dispose();
  await model.dispose();
}
await llama.dispose();
