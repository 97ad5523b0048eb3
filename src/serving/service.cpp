#include "serving/service.h"

#include <fmt/format.h>

#include "serving/serving_error.h"

namespace r1::serving {

namespace {
// Holds one admission slot for as long as it lives.
struct Slot {
  std::shared_ptr<std::atomic<size_t>> counter;
  explicit Slot(std::shared_ptr<std::atomic<size_t>> c) : counter(std::move(c)) {}
  ~Slot() { counter->fetch_sub(1); }
};
}  // namespace

Service::Service(std::string model_name, size_t max_concurrent_requests, StatsSink* stats)
    : models_(std::move(model_name)), max_concurrent_(max_concurrent_requests), stats_(stats) {}

Service::Service(std::vector<ModelSpec> models, RegistryOptions options, size_t max_concurrent_requests,
                 StatsSink* stats, LifecycleSink* lifecycle)
    : models_(std::move(models), options, {}, lifecycle),
      max_concurrent_(max_concurrent_requests),
      stats_(stats) {}

std::string Service::render_chat(const ServedModel& m, const ChatInput& chat, const std::string& field) {
  if (!m.chat_template)
    invalid_request(
        fmt::format("model `{}` has no chat template (tokenizer_config.json has no chat_template); start "
                    "the server with --chat-template FILE, or use /v1/completions",
                    m.name),
        field);
  nlohmann::json ctx = m.special_tokens;
  ctx["messages"] = chat.messages;
  ctx["add_generation_prompt"] = chat.add_generation_prompt;
  if (!chat.tools.is_null()) ctx["tools"] = chat.tools;
  try {
    return m.chat_template->render(ctx);
  } catch (const r1::Error& e) {
    invalid_request(fmt::format("the chat template refused these messages: {}", e.what()), field);
  }
}

namespace {
// Tools: their list goes into the prompt (the template's own rendering where it has one, else R1's format in
// the system prompt), the answer is parsed for calls, and required / a named function constrain it to the
// call format (tool_calls.h).
void use_tools(GenerateRequest& req, const ServedModel& m) {
  ToolsRequest& t = *req.tools;
  if (t.choice == ToolChoice::none || t.tools.empty()) return;
  auto* chat = std::get_if<ChatInput>(&req.input);
  if (!chat) invalid_request("tools are only for chat requests", t.tools_field);
  if (m.renders_tools) {
    t.format = ToolFormat::hermes;
    chat->tools = tools_json(t.tools);
  } else {
    t.format = ToolFormat::deepseek_r1;
    chat->messages = add_tools_prompt(std::move(chat->messages), t.tools);
    chat->tools = nullptr;
  }
  req.params.tool_calls = true;
  req.params.tool_format = t.format;
  if (t.choice == ToolChoice::automatic) return;
  if (req.format)
    invalid_request(
        fmt::format("'{}' {} and '{}' both constrain the answer; set one", t.choice_field,
                    t.choice == ToolChoice::required ? "required" : "naming a function", req.format->field),
        req.format->field);
  req.format =
      OutputFormat{structured::GrammarKind::gbnf, tool_call_grammar(t, kJsonWhitespace), t.tools_field};
}
}  // namespace

std::shared_ptr<Generation> Service::generate(GenerateRequest req,
                                              std::shared_ptr<GenerationObserver> observer,
                                              const std::string& id) {
  if (draining_)
    throw ServingError(ErrorKind::unavailable, "the server is shutting down", std::nullopt, "draining");
  if (!req.params.deadline) {
    std::lock_guard lock(deadline_mu_);
    req.params.deadline = deadline_;
  }
  if (!req.params.timeout) req.params.timeout = request_timeout_;
  std::shared_ptr<ServedModel> m = models_.get(req.model);
  const std::string& field = req.input_field;

  // The sampling parameters against this model's vocabulary first (a logit_bias id out of range), so the
  // error names the field instead of coming back from the engine.
  try {
    req.params.sampling.validate(m->engine->vocab_size());
  } catch (const r1::Error& e) {
    std::string what = e.what();
    invalid_request(what, what.find("logit_bias") != std::string::npos
                              ? std::optional<std::string>("logit_bias")
                              : std::nullopt);
  }

  if (req.tools) use_tools(req, *m);

  // The grammar before admission: a schema the engine cannot enforce is the client's error, named.
  std::shared_ptr<const structured::CompiledGrammar> grammar;
  if (req.format) grammar = m->structured->compile(*req.format);

  // Admission: one slot per generation, held until the engine has finished all its choices.
  if (in_flight_->fetch_add(1) >= max_concurrent_) {
    in_flight_->fetch_sub(1);
    throw ServingError(ErrorKind::overloaded,
                       fmt::format("Too many requests in flight: the server takes {} at once "
                                   "(--max-concurrent-requests). Retry shortly.",
                                   max_concurrent_),
                       std::nullopt, "rate_limit_exceeded");
  }
  auto slot = std::make_shared<Slot>(in_flight_);

  std::vector<Prompt> prompts;
  const Tokenizer& tok = *m->tokenizer;
  if (const auto* chat = std::get_if<ChatInput>(&req.input)) {
    prompts.push_back({tok.encode(render_chat(*m, *chat, field), false), ""});
    req.params.reasoning = m->reasoning;
  } else {
    for (const TextInput& p : std::get<std::vector<TextInput>>(req.input)) {
      if (p.text) {
        prompts.push_back({tok.encode(*p.text, true), *p.text});
      } else {
        for (int32_t tid : p.ids)
          if (tid < 0 || size_t(tid) >= m->engine->vocab_size())
            invalid_request(fmt::format("'{}' holds token id {}, outside the vocabulary of {} ids", field,
                                        tid, m->engine->vocab_size()),
                            field);
        std::string text = req.params.echo ? tok.decode(p.ids, req.params.skip_special_tokens) : "";
        prompts.push_back({p.ids, std::move(text)});
      }
    }
  }

  // Length limits (TGI's MAX_INPUT_TOKENS / MAX_TOTAL_TOKENS; max_model_len bounds both).
  size_t longest = 0;
  for (const auto& p : prompts) {
    if (p.ids.empty()) invalid_request(fmt::format("'{}' is empty after tokenization", field), field);
    if (p.ids.size() > m->max_input_tokens)
      invalid_request(fmt::format("the prompt has {} tokens, more than the limit of {} input tokens "
                                  "(--max-input-tokens; max_model_len {})",
                                  p.ids.size(), m->max_input_tokens, m->engine->max_model_len()),
                      field, "context_length_exceeded");
    longest = std::max(longest, p.ids.size());
  }
  if (req.max_tokens) {
    size_t max_tokens = size_t(*req.max_tokens);
    if (longest + max_tokens > m->max_total_tokens)
      invalid_request(
          fmt::format(
              "the prompt ({} tokens) plus {} ({}) is {} tokens, more than the limit of {} total tokens "
              "(--max-total-tokens; max_model_len {}). Lower {} or shorten the prompt.",
              longest, req.max_tokens_field, max_tokens, longest + max_tokens, m->max_total_tokens,
              m->engine->max_model_len(), req.max_tokens_field),
          req.max_tokens_field, "context_length_exceeded");
    req.params.max_tokens = max_tokens;
  } else {
    req.params.max_tokens = m->max_total_tokens - longest;  // as much as fits (vLLM's default)
  }

  const bool thinking = req.params.reasoning;  // the chat output starts inside <think>
  req.params.constraint = m->structured->constraint(
      std::move(grammar), thinking,
      req.max_reasoning_tokens ? req.max_reasoning_tokens : m->max_reasoning_tokens, req.params.max_tokens);

  StatsSink* stats = stats_ ? stats_->for_model(m->name, m->engine->max_model_len()) : nullptr;
  auto g = std::make_shared<Generation>(m, stats, id, std::move(req.params), std::move(observer), slot);
  g->start(std::move(prompts));
  if (g->cut_at()) watch_.watch(*g->cut_at(), g);
  return g;
}

}  // namespace r1::serving
