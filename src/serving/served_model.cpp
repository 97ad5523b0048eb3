#include "serving/served_model.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "core/error.h"
#include "model/gguf_file.h"
#include "model/kv_cache.h"
#include "model/packed_weights.h"
#include "serving/gguf_text.h"

namespace r1::serving {

using nlohmann::json;

bool template_opens_think(const ChatTemplate& t, const json& special_tokens) {
  json ctx = special_tokens;
  ctx["messages"] = json::array({{{"role", "user"}, {"content", "Hi"}}});
  ctx["add_generation_prompt"] = true;
  try {
    std::string p = t.render(ctx);
    while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
    return p.ends_with("<think>");
  } catch (const r1::Error&) {
    return false;
  }
}

bool template_renders_tools(const ChatTemplate& t, const json& special_tokens) {
  json ctx = special_tokens;
  ctx["messages"] = json::array({{{"role", "user"}, {"content", "Hi"}}});
  ctx["add_generation_prompt"] = true;
  try {
    const std::string without = t.render(ctx);
    ctx["tools"] = json::array(
        {{{"type", "function"}, {"function", {{"name", "probe_tool"}, {"parameters", json::object()}}}}});
    return t.render(ctx) != without;
  } catch (const r1::Error&) {
    return false;
  }
}

namespace {
std::string read_text(const std::string& path, const char* flag) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{} {}: cannot read the file", flag, path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Names the folder that lacks tokenizer.json and the way out. A dummy-weights folder usually holds nothing
// but config.json, so that case says so.
std::string missing_tokenizer_message(const ServingOptions& o, LoadFormat format) {
  if (!o.tokenizer_dir.empty())
    return fmt::format(
        "--tokenizer {}: no tokenizer.json in that folder; r1serve serve needs one to turn text "
        "into tokens",
        o.tokenizer_dir);
  if (format == LoadFormat::dummy)
    return fmt::format(
        "--load-format dummy: no tokenizer: {} has no tokenizer.json (dummy loading makes only the weights); "
        "r1serve serve needs a tokenizer to turn text into tokens: pass --tokenizer DIR, a folder holding "
        "tokenizer.json and tokenizer_config.json (e.g. the real model's folder)",
        o.model_dir);
  return fmt::format(
      "{}: no tokenizer.json; r1serve serve needs one to turn text into tokens (or pass --tokenizer DIR)",
      o.model_dir);
}
}  // namespace

std::unique_ptr<ServedModel> ServedModel::load(const ServingOptions& o) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto m = std::make_unique<ServedModel>();
  m->dir = o.model_dir;
  m->name = o.served_model_name.empty() ? package_name(o.model_dir) : o.served_model_name;
  WeightPrecision precision = parse_weight_precision(o.dtype);
  if (o.reasoning_parser != "auto" && o.reasoning_parser != "deepseek_r1" && o.reasoning_parser != "none")
    fail("--reasoning-parser {}: expected auto, deepseek_r1 or none", o.reasoning_parser);

  const LoadFormat format = parse_load_format(o.load_format);
  const std::string gguf = gguf_model_file(o.model_dir);
  if (gguf.empty() && !std::filesystem::is_directory(o.model_dir))
    fail("--model {}: no such folder or GGUF file", o.model_dir);
  // Tokenizer and template first: they fail fast, before gigabytes of weights are converted. A packed weight
  // file is only read (about as long as the tokenizer takes to build), so it is read meanwhile, on its own
  // thread: cold start is then the longer of the two, not their sum.
  std::future<std::unique_ptr<LoadedModel>> packed_load;
  if (format == LoadFormat::automatic &&
      std::filesystem::exists(std::filesystem::path(o.model_dir) / kPackedWeightsFile))
    packed_load = std::async(std::launch::async, [&] { return load_model(o.model_dir, precision, format); });
  const std::string& tok_dir = o.tokenizer_dir.empty() ? o.model_dir : o.tokenizer_dir;
  if (!o.tokenizer_dir.empty() && !std::filesystem::is_directory(tok_dir))
    fail("--tokenizer {}: no such folder", tok_dir);
  if (!gguf.empty() && o.tokenizer_dir.empty()) {
    GgufText text = load_gguf_text(gguf);
    m->tokenizer = std::move(text.tokenizer);
    m->special_tokens = std::move(text.special_tokens);
    m->chat_template = std::move(text.chat_template);
  } else {
    m->tokenizer = Tokenizer::from_dir(tok_dir);
  }
  if (!m->tokenizer) fail("{}", missing_tokenizer_message(o, format));
  std::string cfg = (std::filesystem::path(tok_dir) / "tokenizer_config.json").string();
  if (std::filesystem::exists(cfg)) {
    nlohmann::ordered_json sp = special_tokens_from_tokenizer_config(cfg);
    m->special_tokens = json::parse(sp.dump());
  }
  if (!o.chat_template.empty()) {
    m->chat_template =
        ChatTemplate::from_string(read_text(o.chat_template, "--chat-template"), o.chat_template);
  } else if (!m->chat_template && std::filesystem::exists(cfg)) {
    m->chat_template = ChatTemplate::from_tokenizer_config(cfg);
  }
  if (o.reasoning_parser == "deepseek_r1")
    m->reasoning = true;
  else if (o.reasoning_parser == "auto")
    m->reasoning = m->chat_template && template_opens_think(*m->chat_template, m->special_tokens);
  m->renders_tools = m->chat_template && template_renders_tools(*m->chat_template, m->special_tokens);

  m->model = packed_load.valid() ? packed_load.get() : load_model(o.model_dir, precision, format);
  if (!m->model->package.packed_path().empty() && !m->model->weights.mapped())
    spdlog::warn(
        "{}: copied into memory instead of used in place: this process may not lock {:.0f} MB "
        "(RLIMIT_MEMLOCK without CAP_IPC_LOCK); `ulimit -l unlimited` or a container's --ulimit "
        "memlock=-1 makes loads faster (docs/MODELS.md)",
        m->model->package.packed_path(), double(m->model->weights.bytes()) / 1e6);
  const GenerationConfig& g = m->model->package.generation_config();
  m->sampling_defaults.temperature = g.temperature;
  m->sampling_defaults.top_p = g.top_p;
  m->sampling_defaults.top_k = g.top_k;
  m->sampling_defaults.min_p = g.min_p;
  m->sampling_defaults.repetition_penalty = g.repetition_penalty;

  m->pool = std::make_unique<ThreadPool>(o.threads);
  EngineConfig ec;
  if (!o.kv_cache_memory.empty()) ec.kv_cache_bytes = parse_byte_size(o.kv_cache_memory, "--kv-cache-memory");
  ec.kv_cache_dtype = resolve_kv_cache_dtype(o.kv_cache_dtype, m->model->package.config(), precision);
  ec.max_num_seqs = o.max_num_seqs;
  ec.max_batch_tokens = o.max_batch_tokens;
  ec.max_model_len = o.max_model_len;
  ec.validate();
  m->engine = std::make_unique<Engine>(*m->model, *m->pool, ec);

  m->structured =
      std::make_unique<StructuredOutputs>(*m->tokenizer, m->engine->eos_ids(), m->engine->vocab_size());
  if (o.max_reasoning_tokens < -1)
    fail("--max-reasoning-tokens {}: expected -1 (no budget), 0 (no thinking) or a token count",
         o.max_reasoning_tokens);
  if (o.max_reasoning_tokens >= 0) m->max_reasoning_tokens = o.max_reasoning_tokens;

  const size_t mml = m->engine->max_model_len();
  if (o.max_total_tokens > mml)
    fail("--max-total-tokens {} is more than max_model_len {} (raise --max-model-len or --kv-cache-memory)",
         o.max_total_tokens, mml);
  m->max_total_tokens = o.max_total_tokens ? o.max_total_tokens : mml;
  m->max_input_tokens = o.max_input_tokens ? o.max_input_tokens : m->max_total_tokens - 1;
  if (m->max_input_tokens >= m->max_total_tokens)
    fail("--max-input-tokens {} must be less than --max-total-tokens {} (room for at least one new token)",
         m->max_input_tokens, m->max_total_tokens);
  m->bytes = m->model->weights.bytes() + m->engine->kv_cache_bytes();
  m->created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();

  const ModelConfig& c = m->model->package.config();
  spdlog::info("model {} ({}, {} layers, {:.1f} MB of {}weights, dtype {}) loaded in {:.2f} s; tokenizer {}",
               m->name, c.architecture, c.n_layers, double(m->model->weights.bytes()) / 1e6,
               m->model->random_weights() ? "RANDOM (--load-format dummy) " : "",
               weight_precision_name(precision), std::chrono::duration<double>(clock::now() - t0).count(),
               tok_dir);
  if (m->model->random_weights())
    spdlog::warn("serving RANDOM weights (--load-format dummy): every response is meaningless text");
  spdlog::info(
      "KV cache: {} blocks of {} tokens = {} tokens ({:.1f} MiB, {}); max_model_len {}; max_num_seqs {}; "
      "max_batch_tokens {}; {} threads",
      m->engine->num_kv_blocks(), m->engine->block_size(), m->engine->kv_capacity_tokens(),
      double(m->engine->kv_cache_bytes()) / (1 << 20), dtype_name(ec.kv_cache_dtype), mml, ec.max_num_seqs,
      ec.max_batch_tokens, m->pool->size());
  spdlog::info("limits: max_input_tokens {}, max_total_tokens {}; chat template: {}; reasoning parser: {}",
               m->max_input_tokens, m->max_total_tokens,
               m->chat_template ? m->chat_template->origin() : std::string("none (chat requests get 400)"),
               m->reasoning ? "deepseek_r1" : "none");
  return m;
}

}  // namespace r1::serving
