// POST /model/{modelId}/invoke and /invoke-with-response-stream: the three request bodies Bedrock Custom
// Model Import accepts, answered in the same format, whole or as event-stream `chunk` events.
#include <chrono>

#include "server/api/bedrock/bedrock_api.h"
#include "server/api/bedrock/bedrock_error.h"
#include "server/api/bedrock/event_stream.h"
#include "server/api/openai/openai_format.h"
#include "server/api_error.h"

namespace r1::server::bedrock {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// {prompt, max_gen_len, temperature, top_p} → {generation, …} (Llama's format); {prompt, max_tokens, …} → an
// OpenAI text_completion; {messages, …} → an OpenAI chat.completion.
enum class Format { native, completion, chat };

constexpr int64_t kDefaultMaxGenLen = 512;  // Bedrock's default for the Llama format

int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// The body as an OpenAI request body, with the format it came in.
std::pair<Format, json> to_openai_body(json body) {
  // The model is the path's and streaming the route's: a body's own say is dropped, as Bedrock does.
  for (const char* f : {"model", "stream", "stream_options"}) body.erase(f);
  if (body.contains("messages")) return {Format::chat, body};
  if (!body.contains("prompt"))
    bad_request("the body needs 'prompt' (with 'max_gen_len' or 'max_tokens') or 'messages'", "prompt");
  if (body.contains("max_tokens")) return {Format::completion, body};
  json out = json::object();
  for (const auto& [k, v] : body.items()) {
    if (k != "prompt" && k != "max_gen_len" && k != "temperature" && k != "top_p")
      bad_request(
          fmt::format("'{}' is not a field of the {{prompt, max_gen_len, temperature, top_p}} format; "
                      "send OpenAI's completion fields with 'max_tokens' instead",
                      k),
          k);
  }
  if (!body["prompt"].is_string()) bad_request("'prompt' must be a string", "prompt");
  out["prompt"] = body["prompt"];
  json len = body.value("max_gen_len", json(kDefaultMaxGenLen));
  if (!len.is_number_integer() || len.get<int64_t>() < 1)
    bad_request(fmt::format("'max_gen_len' must be a positive integer, not {}", len.dump()), "max_gen_len");
  out["max_tokens"] = len;
  for (const char* f : {"temperature", "top_p"})
    if (body.contains(f)) out[f] = body[f];
  return {Format::native, out};
}

class InvokeWriter final : public serving::GenerationObserver {
 public:
  InvokeWriter(BedrockCall call, Format format, ResponseHead head, bool reasoning)
      : c_(std::move(call)), format_(format), head_(std::move(head)), reasoning_(reasoning) {}

  void on_started() override {
    if (!c_.stream) return;
    c_.res->begin_stream(
        200, "application/vnd.amazon.eventstream",
        {{"x-amzn-requestid", c_.request_id}, {"x-amzn-bedrock-content-type", "application/json"}});
    if (format_ == Format::chat)
      write_chunk(
          chat_chunk(head_, 0, {{"role", "assistant"}, {"content", ""}}, nullptr, std::nullopt, false));
  }

  void on_delta(const serving::ChoiceDelta& d) override {
    if (!c_.stream) return;
    json chunk;
    if (format_ == Format::native) {
      chunk = {{"generation", d.content},
               {"prompt_token_count", nullptr},
               {"generation_token_count", nullptr},
               {"stop_reason", d.finish_reason ? json(*d.finish_reason) : json(nullptr)}};
    } else if (format_ == Format::completion) {
      chunk = completion_chunk(head_, int(d.index), d.content, nullptr, d.finish_reason, false);
    } else {
      json delta = json::object();
      if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
      if (!d.content.empty()) delta["content"] = d.content;
      chunk = chat_chunk(head_, int(d.index), std::move(delta), nullptr, d.finish_reason, false);
    }
    // A choice's last chunk waits for the usage (on_complete) so that it can carry the invocation metrics.
    if (d.finish_reason)
      held_.push_back(std::move(chunk));
    else
      write_chunk(chunk);
  }

  void on_complete(const serving::GenerateResult& r) override {
    const int64_t latency = ms_since(t0_);
    if (c_.stream) {
      if (auto e = generation_failure(r)) {
        status_ = e->status;
        c_.res->write(
            eventstream::exception(stream_exception_type(*e), dump_json({{"message", e->message}})));
        c_.res->end_stream();
        return;
      }
      if (held_.empty()) held_.push_back(json::object());
      json& last = held_.back();
      if (format_ == Format::native) {
        last["prompt_token_count"] = r.prompt_tokens;
        last["generation_token_count"] = r.completion_tokens;
      } else {
        last["usage"] = usage_json(r.prompt_tokens, r.completion_tokens, 0, r.reasoning_tokens);
      }
      last["amazon-bedrock-invocationMetrics"] = {
          {"inputTokenCount", r.prompt_tokens},
          {"outputTokenCount", r.completion_tokens},
          {"invocationLatency", latency},
          {"firstByteLatency", first_byte_ms_ < 0 ? latency : first_byte_ms_}};
      for (const json& j : held_) write_chunk(j);
      c_.res->end_stream();
      return;
    }
    if (auto e = generation_failure(r)) {
      status_ = e->status;
      send_error(*c_.res, *e, c_.request_id);
      return;
    }
    json body;
    if (format_ == Format::native) {
      const auto& ch = r.choices.at(0);
      body = {{"generation", ch.content},
              {"prompt_token_count", r.prompt_tokens},
              {"generation_token_count", r.completion_tokens},
              {"stop_reason", ch.finish_reason}};
    } else {
      json choices = json::array();
      for (const auto& ch : r.choices) {
        if (format_ == Format::chat) {
          std::optional<std::string> reasoning;
          if (reasoning_) reasoning = ch.reasoning;
          choices.push_back(
              chat_choice(int(ch.index), ch.content, reasoning, reasoning_, nullptr, ch.finish_reason));
        } else {
          choices.push_back(completion_choice(int(ch.index), ch.content, nullptr, ch.finish_reason));
        }
      }
      body = full_response(head_, std::move(choices),
                           usage_json(r.prompt_tokens, r.completion_tokens, 0, r.reasoning_tokens));
    }
    c_.res->send(200, "application/json", dump_json(body),
                 {{"x-amzn-requestid", c_.request_id},
                  {"x-amzn-bedrock-input-token-count", std::to_string(r.prompt_tokens)},
                  {"x-amzn-bedrock-output-token-count", std::to_string(r.completion_tokens)},
                  {"x-amzn-bedrock-invocation-latency", std::to_string(latency)}});
  }

  void on_finished(const serving::GenerationSummary& s) override {
    if (c_.on_finished) c_.on_finished(head_.id, status_, s);
  }

 private:
  // One `chunk` event: the model's JSON, base64 in the payload's `bytes`.
  void write_chunk(const json& chunk) {
    if (first_byte_ms_ < 0) first_byte_ms_ = ms_since(t0_);
    c_.res->write(eventstream::event("chunk", dump_json({{"bytes", base64(dump_json(chunk))}})));
  }

  BedrockCall c_;
  Format format_;
  ResponseHead head_;
  bool reasoning_;
  Clock::time_point t0_ = Clock::now();
  int64_t first_byte_ms_ = -1;
  std::vector<json> held_;
  int status_ = 200;
};

}  // namespace

void run_invoke(BedrockCall call, const std::string& body_text) {
  auto [format, body] = to_openai_body(parse_json_body(body_text));
  auto model = call.service.models().get(call.model);
  ApiRequest r;
  if (format == Format::chat) {
    refuse_unknown_fields(body, kChatFields, /*shared=*/true);
    r = parse_chat_request(body, model->sampling_defaults);
  } else {
    refuse_unknown_fields(body, kCompletionFields, /*shared=*/true);
    r = parse_completion_request(body, model->sampling_defaults);
  }
  if (r.n != 1 || r.prompts.size() > 1)
    bad_request("Bedrock answers one completion per request: 'n' must be 1 and 'prompt' one string", "n");
  ResponseHead head = make_head(format == Format::chat ? Endpoint::chat : Endpoint::completion, model->name);
  serving::GenerateRequest g = to_generate_request(r);
  g.model = call.model;
  if (format == Format::native) g.max_tokens_field = "max_gen_len";
  const bool reasoning = format == Format::chat && model->reasoning;
  serving::Service& service = call.service;
  auto res = call.res;
  auto writer = std::make_shared<InvokeWriter>(std::move(call), format, head, reasoning);
  std::shared_ptr<serving::Generation> gen = service.generate(std::move(g), writer, head.id);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

}  // namespace r1::server::bedrock
