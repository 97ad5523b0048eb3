#pragma once
// The service behind every protocol: the models by name, admission, and one generate call from messages or
// prompts to a stream of events (serving/generation.h). Chat template, tokenization and the length limits
// happen here, so every protocol adapter gets the same answers and the same errors (ServingError, with the
// field names the adapter passed in).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "serving/deadline_watch.h"
#include "serving/generation.h"
#include "serving/model_registry.h"

namespace r1::serving {

// A conversation for the chat template.
struct ChatInput {
  nlohmann::json messages;  // [{role, content: string, ...}], content parts already joined
  nlohmann::json tools;     // passed to the template as is (null when absent)
  bool add_generation_prompt = true;
};

// One raw prompt: text (tokenized with the tokenizer's special tokens, e.g. BOS), or token ids as given.
struct TextInput {
  std::optional<std::string> text;
  std::vector<int32_t> ids;
};

struct GenerateRequest {
  std::optional<std::string> model;  // unset: the default model
  std::variant<ChatInput, std::vector<TextInput>> input;
  std::optional<int64_t> max_tokens;   // unset: as many as fit (vLLM's default)
  GenerateParams params;               // params.max_tokens, .reasoning and .constraint are set by the service
  std::optional<OutputFormat> format;  // structured output: the answer must match it
  // The reasoning budget (R1 templates); unset: the server's --max-reasoning-tokens.
  std::optional<int64_t> max_reasoning_tokens;
  std::optional<ToolsRequest> tools;  // chat: functions the model may call (serving/tool_calls.h)
  // The adapter's names for the fields that errors point at.
  std::string input_field = "messages", max_tokens_field = "max_tokens";
};

class Service {
 public:
  // `stats` (may be null) must outlive the service and every generation.
  Service(std::string model_name, size_t max_concurrent_requests, StatsSink* stats);
  // Several models with their lifecycle (serving/model_registry.h); `lifecycle` (may be null) likewise.
  Service(std::vector<ModelSpec> models, RegistryOptions options, size_t max_concurrent_requests,
          StatsSink* stats, LifecycleSink* lifecycle);

  ModelRegistry& models() { return models_; }
  const ModelRegistry& models() const { return models_; }

  // New generations are refused (unavailable, code "draining").
  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }
  // Generations started from now on without a deadline of their own get this one (nullopt: none). The Lambda
  // runtime serves one invocation at a time and sets its deadline here before handing the event over.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::lock_guard lock(deadline_mu_);
    deadline_ = deadline;
  }

  // Every generation from now on ends once it has run this long, queue wait included (--request-timeout;
  // nullopt: never). The result then says it timed out (GenerateResult::timed_out).
  void set_request_timeout(std::optional<std::chrono::milliseconds> timeout) { request_timeout_ = timeout; }

  // Renders, tokenizes, checks the limits, takes an admission slot and starts the generation; its events go
  // to `observer`. Throws ServingError: unavailable (loading, draining), not_found (model), overloaded (code
  // rate_limit_exceeded), invalid_request (code context_length_exceeded for the limits).
  std::shared_ptr<Generation> generate(GenerateRequest req, std::shared_ptr<GenerationObserver> observer,
                                       const std::string& id);

  // The prompt text the chat template renders for `chat` (throws invalid_request naming `field`).
  static std::string render_chat(const ServedModel& m, const ChatInput& chat, const std::string& field);

  // Generations admitted and not yet finished in the engine.
  size_t in_flight() const { return in_flight_->load(); }

 private:
  ModelRegistry models_;
  size_t max_concurrent_;
  StatsSink* stats_;
  std::atomic<bool> draining_{false};
  std::mutex deadline_mu_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::shared_ptr<std::atomic<size_t>> in_flight_ = std::make_shared<std::atomic<size_t>>(0);
  std::optional<std::chrono::milliseconds> request_timeout_;
  DeadlineWatch watch_;  // last: stops before anything a generation it expires could touch goes
};

}  // namespace r1::serving
