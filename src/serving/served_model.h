#pragma once
// Everything loaded for one served model: weights, tokenizer, chat template, the engine, and what the
// protocols need to know about them (name, sampling defaults, whether R1's reasoning split is on). Built on a
// background thread by the ModelRegistry, and freed by it when the model is unloaded.
#include <memory>
#include <optional>
#include <string>

#include "core/thread_pool.h"
#include "engine/engine.h"
#include "engine/generator.h"
#include "serving/serving_options.h"
#include "serving/structured_output.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace r1::serving {

// Sampling defaults of the served model (generation_config.json); unset fields fall back to the protocol's.
struct SamplingDefaults {
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;
};

struct ServedModel {
  std::string name;
  std::string dir;
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<Tokenizer> tokenizer;       // null: the folder has none (token-id prompts only)
  std::optional<ChatTemplate> chat_template;  // none: chat requests get a 400
  nlohmann::json special_tokens = nlohmann::json::object();  // bos_token / eos_token for templates
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Engine> engine;
  SamplingDefaults sampling_defaults;
  bool reasoning = false;                             // deepseek_r1 split on chat responses
  bool renders_tools = false;                         // the chat template lists `tools` itself (Qwen2.5)
  size_t max_input_tokens = 0, max_total_tokens = 0;  // resolved limits (never above max_model_len)
  int64_t created = 0;                                // unix time the model became ready (/v1/models)
  std::unique_ptr<StructuredOutputs> structured;      // grammars over this model's vocabulary
  std::optional<int64_t> max_reasoning_tokens;        // the server's default reasoning budget
  size_t bytes = 0;                                   // weights + KV cache (the memory budget counts it)

  // Loads everything and starts the engine; logs the KV budget, max_model_len, dtype and threads.
  // Throws r1::Error naming the file or flag at fault.
  static std::unique_ptr<ServedModel> load(const ServingOptions& o);
};

// Whether a chat template is an R1-distill one: its generation prompt ends inside <think>.
bool template_opens_think(const ChatTemplate& t, const nlohmann::json& special_tokens);
// Whether a chat template renders a `tools` list (its prompt changes when one is given).
bool template_renders_tools(const ChatTemplate& t, const nlohmann::json& special_tokens);

}  // namespace r1::serving
