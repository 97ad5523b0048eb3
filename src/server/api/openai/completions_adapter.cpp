#include "server/api/openai/completions_adapter.h"

#include "server/api/openai/openai_format.h"
#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;

const std::initializer_list<const char*> kChatFields = {"messages",
                                                        "max_tokens",
                                                        "max_completion_tokens",
                                                        "logprobs",
                                                        "top_logprobs",
                                                        "add_generation_prompt",
                                                        "response_format",
                                                        "tools",
                                                        "tool_choice",
                                                        "parallel_tool_calls",
                                                        "structured_outputs",
                                                        "guided_json",
                                                        "guided_regex",
                                                        "guided_choice",
                                                        "guided_grammar",
                                                        "max_reasoning_tokens"};
const std::initializer_list<const char*> kCompletionFields = {
    "prompt",       "max_tokens",      "logprobs",           "echo",
    "suffix",       "response_format", "structured_outputs", "guided_json",
    "guided_regex", "guided_choice",   "guided_grammar"};

serving::GenerateRequest to_generate_request(const ApiRequest& r) {
  serving::GenerateRequest g;
  g.model = r.model;
  if (r.endpoint == Endpoint::completion) {
    std::vector<serving::TextInput> prompts;
    for (const PromptInput& p : r.prompts) prompts.push_back({p.text, p.ids});
    g.input = std::move(prompts);
    g.input_field = "prompt";
    g.max_tokens_field = "max_tokens";
  } else {
    g.input = serving::ChatInput{r.messages, r.tools, r.add_generation_prompt};
    g.input_field = "messages";
    g.max_tokens_field = "max_completion_tokens";
  }
  g.max_tokens = r.max_tokens;
  g.format = r.format;
  g.max_reasoning_tokens = r.max_reasoning_tokens;
  g.tools = r.tool_request;
  serving::GenerateParams& p = g.params;
  p.sampling = r.sampling;
  p.n = r.n;
  p.stop = r.stop;
  p.stop_token_ids = r.stop_token_ids;
  p.ignore_eos = r.ignore_eos;
  p.skip_special_tokens = r.skip_special_tokens;
  p.logprobs = r.logprobs ? r.top_logprobs : -1;
  p.echo = r.echo;
  return g;
}

namespace {

// Writes one request's events as OpenAI chat / completions responses.
class CompletionWriter final : public serving::GenerationObserver {
 public:
  CompletionWriter(ApiRequest req, std::shared_ptr<HttpResponder> res, ResponseHead head, bool reasoning,
                   OnGenerationFinished on_finished)
      : req_(std::move(req)),
        res_(std::move(res)),
        head_(std::move(head)),
        reasoning_(reasoning),
        on_finished_(std::move(on_finished)) {}

  void on_started() override {
    if (!req_.stream) return;
    res_->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    if (!chat()) return;
    size_t n = req_.prompts.empty() ? 1 : req_.prompts.size();
    for (size_t i = 0; i < n * size_t(req_.n); ++i) {
      json delta = {{"role", "assistant"}, {"content", ""}};
      res_->write(sse_event(chat_chunk(head_, int(i), delta, nullptr, std::nullopt, req_.include_usage)));
    }
  }

  void on_delta(const serving::ChoiceDelta& d) override {
    if (!req_.stream) return;
    if (offsets_.size() <= d.index) offsets_.resize(d.index + 1, 0);
    json lp = nullptr;
    if (req_.logprobs && !d.logprobs.empty()) {
      lp = chat() ? chat_logprobs(d.logprobs)
                  : completion_logprobs(d.logprobs, offsets_[d.index], req_.top_logprobs > 0);
      for (const auto& e : d.logprobs) offsets_[d.index] += e.token.size();
    }
    if (chat()) {
      json delta = json::object();
      if (!d.reasoning.empty()) delta["reasoning_content"] = delta["reasoning"] = d.reasoning;
      if (!d.content.empty()) delta["content"] = d.content;
      if (!d.tool_calls.empty()) {
        if (calls_sent_.size() <= d.index) calls_sent_.resize(d.index + 1, 0);
        delta["tool_calls"] = chat_tool_calls(d.tool_calls, true, calls_sent_[d.index]);
        calls_sent_[d.index] += d.tool_calls.size();
      }
      res_->write(sse_event(
          chat_chunk(head_, int(d.index), std::move(delta), lp, d.finish_reason, req_.include_usage)));
    } else {
      res_->write(sse_event(
          completion_chunk(head_, int(d.index), d.content, lp, d.finish_reason, req_.include_usage)));
    }
  }

  void on_complete(const serving::GenerateResult& r) override {
    // Cached prompt tokens stay out, as vLLM leaves them without --enable-prompt-tokens-details.
    json usage = usage_json(r.prompt_tokens, r.completion_tokens, 0, r.reasoning_tokens);
    if (req_.stream) {
      if (r.error) {
        ApiError e(500, *r.error, "internal_server_error");
        res_->write(sse_event(e.to_json()));
      }
      if (req_.include_usage) res_->write(sse_event(usage_chunk(head_, usage)));
      res_->write(kSseDone);
      res_->end_stream();
      return;
    }
    if (r.error) {
      status_ = 500;
      ApiError e(500, *r.error, "internal_server_error");
      res_->send(500, "application/json", dump_json(e.to_json()));
      return;
    }
    if (r.timed_out && r.completion_tokens == 0) {
      // Timed out before its first token (in the queue or the prefill): nothing to return, so the timeout
      // itself is the answer. With tokens, what was generated comes back with finish_reason "length".
      status_ = 408;
      ApiError e(408, *r.timed_out, "timeout_error", std::nullopt, "request_timeout");
      res_->send(408, "application/json", dump_json(e.to_json()));
      return;
    }
    json choices = json::array();
    for (const auto& c : r.choices) {
      if (chat()) {
        json lp = req_.logprobs ? chat_logprobs(c.logprobs) : json(nullptr);
        std::optional<std::string> reasoning;
        if (reasoning_) reasoning = c.reasoning;
        choices.push_back(chat_choice(int(c.index), c.content, reasoning, reasoning_, lp, c.finish_reason,
                                      chat_tool_calls(c.tool_calls)));
      } else {
        json lp = req_.logprobs ? completion_logprobs(c.logprobs, 0, req_.top_logprobs > 0) : json(nullptr);
        choices.push_back(completion_choice(int(c.index), c.content, lp, c.finish_reason));
      }
    }
    res_->send(200, "application/json", dump_json(full_response(head_, std::move(choices), usage)));
  }

  void on_finished(const serving::GenerationSummary& s) override {
    if (on_finished_) on_finished_(head_.id, status_, s);
  }

 private:
  bool chat() const { return req_.endpoint == Endpoint::chat; }

  ApiRequest req_;
  std::shared_ptr<HttpResponder> res_;
  ResponseHead head_;
  bool reasoning_;
  OnGenerationFinished on_finished_;
  std::vector<size_t> offsets_;     // completions text_offset of each choice's next token
  std::vector<size_t> calls_sent_;  // chat: tool calls streamed so far, per choice
  int status_ = 200;
};

}  // namespace

void run_openai_completion(serving::Service& service, ApiRequest req, std::shared_ptr<HttpResponder> res,
                           const std::string& model_name, OnGenerationFinished on_finished) {
  ResponseHead head = make_head(req.endpoint, model_name);
  auto model = service.models().get(req.model);
  const bool reasoning = req.endpoint == Endpoint::chat && model->reasoning;
  serving::GenerateRequest g = to_generate_request(req);
  auto writer =
      std::make_shared<CompletionWriter>(std::move(req), res, head, reasoning, std::move(on_finished));
  std::shared_ptr<serving::Generation> gen = service.generate(std::move(g), writer, head.id);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

}  // namespace r1::server
