// r1serve run: load a model package and generate from one prompt, streaming to stdout.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "core/npy.h"
#include "engine/generator.h"
#include "model/gguf_file.h"
#include "model/kv_cache.h"
#include "serving/gguf_text.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"

namespace r1::app {

namespace {

struct RunOptions {
  std::string model;
  std::string tokenizer;  // folder of tokenizer.json + tokenizer_config.json; "" = the model folder
  std::string load_format = "auto";
  std::string prompt;
  std::string prompt_ids;
  bool chat = false;   // render --prompt as a one-user-message chat with the model's chat template first
  std::string output;  // "ids", "text", or "" (text when the model folder has a tokenizer)
  size_t max_tokens = 256;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  bool ignore_eos = false;
  std::string dump_logits;
  std::string dtype = "auto";
  std::string kv_cache_dtype = "auto";
  int threads = 0;

  const std::string& tokenizer_dir() const { return tokenizer.empty() ? model : tokenizer; }
};

// Flags win; then generation_config.json; then OpenAI's defaults (temperature 1, top_p 1).
SamplingParams sampling_from(const RunOptions& o, const GenerationConfig& g) {
  SamplingParams p;
  p.temperature = o.temperature.value_or(g.temperature.value_or(1.0));
  p.top_p = o.top_p.value_or(g.top_p.value_or(1.0));
  p.top_k = o.top_k.value_or(g.top_k.value_or(0));
  p.min_p = o.min_p.value_or(g.min_p.value_or(0.0));
  p.repetition_penalty = o.repetition_penalty.value_or(g.repetition_penalty.value_or(1.0));
  p.seed = o.seed;
  return p;
}

// --chat: the prompt as the single user message of a conversation, rendered with the folder's chat template
// and an opened assistant turn; the template writes BOS itself, so the text is encoded without special
// tokens.
std::vector<int32_t> encode_chat(const Tokenizer& tok, const RunOptions& o, const serving::GgufText* gguf) {
  std::string config = o.tokenizer_dir() + "/tokenizer_config.json";
  std::optional<ChatTemplate> tmpl;
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  if (gguf) {
    if (!gguf->chat_template) fail("--chat: {} has no tokenizer.chat_template", o.model);
    tmpl = gguf->chat_template;
    ctx = nlohmann::ordered_json::parse(gguf->special_tokens.dump());
  } else {
    tmpl = ChatTemplate::from_tokenizer_config(config);
    if (!tmpl) fail("--chat: {} has no chat_template", config);
    ctx = special_tokens_from_tokenizer_config(config);
  }
  ctx["messages"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", o.prompt}}});
  ctx["add_generation_prompt"] = true;
  return tok.encode(tmpl->render(ctx), /*add_special_tokens=*/false);
}

int run(const RunOptions& o) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  // The tokenizer first (it fails fast, before the weights are read or made). The prompt as ids: --prompt is
  // encoded with tokenizer.json (BOS etc. as its post-processor or tokenizer_config.json says); output is
  // streamed as text through the incremental detokenizer when possible.
  // A GGUF model's own tokenizer is read when text is involved (a file may have none: --prompt-ids with ids
  // out needs none).
  std::optional<serving::GgufText> gguf_text;
  const std::string gguf = o.tokenizer.empty() ? gguf_model_file(o.model) : "";
  std::unique_ptr<Tokenizer> tok;
  if (gguf.empty()) {
    tok = Tokenizer::from_dir(o.tokenizer_dir());
  } else if (!o.prompt.empty() || o.output == "text") {
    gguf_text = serving::load_gguf_text(gguf);
    tok = std::move(gguf_text->tokenizer);
  }
  if (!o.tokenizer.empty() && !tok) fail("--tokenizer {}: no tokenizer.json in that folder", o.tokenizer);
  if (!o.prompt.empty() && !tok)
    fail(
        "--prompt: {}/tokenizer.json not found, so text cannot be tokenized; pass token ids with "
        "--prompt-ids or a tokenizer folder with --tokenizer DIR",
        o.model);
  const WeightPrecision precision = parse_weight_precision(o.dtype);
  auto model = load_model(o.model, precision, parse_load_format(o.load_format));
  const ModelConfig& c = model->package.config();
  const DType kv_dtype = resolve_kv_cache_dtype(o.kv_cache_dtype, c, precision);
  std::vector<int32_t> prompt = o.prompt.empty() ? parse_id_list(o.prompt_ids, "--prompt-ids")
                                : o.chat         ? encode_chat(*tok, o, gguf_text ? &*gguf_text : nullptr)
                                                 : tok->encode(o.prompt);
  if (prompt.empty()) fail("--prompt: the text encodes to no tokens");
  bool text_output = o.output.empty() ? tok != nullptr : o.output == "text";
  if (text_output && !tok)
    fail("--output text: {}/tokenizer.json not found; use --output ids or --tokenizer DIR", o.model);
  ThreadPool pool(o.threads);
  size_t want = o.dump_logits.empty() ? prompt.size() + o.max_tokens : prompt.size();
  Generator gen(*model, pool, std::min(want, c.max_position_embeddings), kv_dtype);
  auto t_loaded = clock::now();
  spdlog::info("loaded {} ({}, {} layers, {:.1f} MB of {}weights, KV cache {}) in {:.2f} s, {} threads",
               o.model, c.architecture, c.n_layers, double(model->weights.bytes()) / 1e6,
               model->random_weights() ? "RANDOM (--load-format dummy) " : "", dtype_name(kv_dtype),
               std::chrono::duration<double>(t_loaded - t0).count(), pool.size());

  if (!o.dump_logits.empty()) {
    std::vector<float> logits = gen.prompt_logits(prompt);
    write_npy_f32(o.dump_logits, logits.data(), {prompt.size(), c.vocab_size});
    return 0;
  }

  GenerateOptions g;
  g.sampling = sampling_from(o, model->package.generation_config());
  g.max_tokens = o.max_tokens;
  g.ignore_eos = o.ignore_eos;
  const GenerationConfig& gc = model->package.generation_config();
  for (int id : gc.eos_token_ids.empty() ? c.eos_token_ids : gc.eos_token_ids) g.eos_ids.push_back(id);
  std::optional<IncrementalDetokenizer> detok;
  if (text_output) {
    detok.emplace(*tok, /*skip_special_tokens=*/true);
    for (int32_t id : prompt)
      detok->push(id);  // context only: the first generated token continues the prompt
  }
  auto t_gen = clock::now();
  std::vector<int32_t> out = gen.generate(prompt, g, [&](int32_t id) {
    if (detok)
      std::fputs(detok->push(id).c_str(), stdout);
    else
      std::printf("%d\n", id);
    std::fflush(stdout);
    return true;
  });
  if (detok) std::printf("%s\n", detok->flush().c_str());
  double secs = std::chrono::duration<double>(clock::now() - t_gen).count();
  spdlog::info("prompt {} tokens, generated {} tokens in {:.3f} s ({:.1f} tok/s)", prompt.size(), out.size(),
               secs, double(out.size()) / std::max(secs, 1e-9));
  return 0;
}

void register_run(CLI::App& app, Action& action) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt with one sequence");
  cmd->add_option("--model", o->model,
                  "Hugging Face model folder, store name NAME[:TAG], Hub id ORG/NAME[@REV] or "
                  "s3://BUCKET/PREFIX/ (docs/MODELS.md)")
      ->required();
  add_tokenizer_option(cmd, o->tokenizer);
  add_load_format_option(cmd, o->load_format);
  auto* p = cmd->add_option("--prompt", o->prompt, "Prompt text");
  auto* pi = cmd->add_option("--prompt-ids", o->prompt_ids, "Prompt as token ids: 1,2,3");
  p->excludes(pi);
  cmd->add_flag("--chat", o->chat, "Render --prompt as a one-message chat with the model's chat template")
      ->needs(p);
  cmd->add_option(
         "--output", o->output,
         "ids (one per line) or text (generated text only; default when the folder has tokenizer.json)")
      ->check(CLI::IsMember({"ids", "text"}));
  cmd->add_option("--max-tokens", o->max_tokens, "Most tokens to generate")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", o->temperature, "0 = greedy (default: generation_config.json, else 1)");
  cmd->add_option("--top-p", o->top_p, "Nucleus sampling mass");
  cmd->add_option("--top-k", o->top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--min-p", o->min_p, "Drop tokens below min_p × the top probability");
  cmd->add_option("--repetition-penalty", o->repetition_penalty, "Penalty for tokens seen before (1 = off)");
  cmd->add_option("--seed", o->seed, "Random seed for sampling");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-sequence tokens");
  cmd->add_option("--dump-logits", o->dump_logits,
                  "Write prompt logits [n_prompt, vocab] to FILE.npy and exit");
  cmd->add_option("--dtype", o->dtype, "Weight precision: auto (as stored), f32, bf16, q8, q4");
  add_kv_cache_dtype_option(cmd, o->kv_cache_dtype);
  cmd->add_option("--threads", o->threads, "Threads (0 = all cores)");
  cmd->callback([&action, o, p, pi] {
    if (p->count() == 0 && pi->count() == 0) throw CLI::RequiredError("--prompt or --prompt-ids");
    action = [o] {
      o->model = resolve_model_arg(o->model).dir;
      return run(*o);
    };
  });
}

const CommandRegistrar kRegisterRun(register_run);

}  // namespace
}  // namespace r1::app
