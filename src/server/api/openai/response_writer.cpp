#include "server/api/openai/response_writer.h"

#include <fmt/format.h>

#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;

namespace {

json usage_of(const serving::GenerateResult& r) {
  return {{"input_tokens", r.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", r.cached_tokens}}},
          {"output_tokens", r.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", r.reasoning_tokens}}},
          {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

// Streams (or collects) one response. Item ids are fixed up front; sequence numbers count every event.
class ResponseWriter final : public serving::GenerationObserver {
 public:
  ResponseWriter(json base, bool stream, bool reasoning_enabled, std::shared_ptr<HttpResponder> res,
                 std::shared_ptr<ResponseStore> store, bool keep, json conversation,
                 OnGenerationFinished on_finished)
      : base_(std::move(base)),
        stream_(stream),
        reasoning_enabled_(reasoning_enabled),
        res_(std::move(res)),
        store_(std::move(store)),
        keep_(keep),
        conversation_(std::move(conversation)),
        on_finished_(std::move(on_finished)) {
    std::string hex = base_["id"].get<std::string>().substr(5);  // after "resp_"
    rs_id_ = "rs_" + hex;
    msg_id_ = "msg_" + hex;
  }

  void on_started() override {
    if (!stream_) return;
    res_->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    json r = base_;
    r["status"] = "in_progress";
    emit("response.created", {{"response", r}});
    emit("response.in_progress", {{"response", r}});
  }

  void on_delta(const serving::ChoiceDelta& d) override {
    reasoning_ += d.reasoning;
    content_ += d.content;
    const size_t first_call = calls_.size();
    for (const auto& c : d.tool_calls) calls_.push_back({c, -1});
    if (!stream_) return;
    if (!d.reasoning.empty()) {
      open_reasoning();
      emit("response.reasoning_text.delta",
           {{"item_id", rs_id_}, {"output_index", rs_index_}, {"content_index", 0}, {"delta", d.reasoning}});
    }
    if (!d.content.empty()) {
      close_reasoning();
      open_message();
      emit("response.output_text.delta", {{"item_id", msg_id_},
                                          {"output_index", msg_index_},
                                          {"content_index", 0},
                                          {"delta", d.content},
                                          {"logprobs", json::array()}});
    }
    for (size_t i = first_call; i < calls_.size(); ++i) {
      close_reasoning();
      stream_call(i);
    }
  }

  void on_complete(const serving::GenerateResult& r) override {
    json resp = base_;
    if (r.error) {
      resp["status"] = "failed";
      resp["error"] = {{"code", "server_error"}, {"message", *r.error}};
    } else if (!r.choices.empty() && r.choices[0].finish_reason == "length") {
      resp["status"] = "incomplete";
      resp["incomplete_details"] = {{"reason", "max_output_tokens"}};
    } else {
      resp["status"] = "completed";
    }
    const bool incomplete = resp["status"] != "completed";
    resp["usage"] = usage_of(r);
    json output = json::array();
    if (!reasoning_.empty()) output.push_back(reasoning_item(incomplete && content_.empty()));
    // The answer: always when the model got past its thinking, never for output cut inside it.
    // An answer that is only tool calls has no message item, as OpenAI's.
    const bool message =
        !content_.empty() || (calls_.empty() && (!reasoning_enabled_ || (!incomplete && !r.error)));
    if (message) output.push_back(message_item(incomplete));
    for (size_t i = 0; i < calls_.size(); ++i) output.push_back(call_item(i, true));
    resp["output"] = output;
    // Stored before the client can see the answer: its next request may name this one at once.
    if (keep_ && !r.error) {
      json turn = {{"role", "assistant"}, {"content", content_}};
      if (!calls_.empty()) {
        if (content_.empty()) turn["content"] = nullptr;
        turn["tool_calls"] = json::array();
        for (const auto& c : calls_)
          turn["tool_calls"].push_back(
              {{"id", c.call.id},
               {"type", "function"},
               {"function", {{"name", c.call.name}, {"arguments", c.call.arguments}}}});
      }
      conversation_.push_back(std::move(turn));
      store_->put(resp["id"], {resp, conversation_});
    }
    if (stream_) {
      close_reasoning();
      if (message) open_message();
      close_message(incomplete);
      const char* kind = r.error      ? "response.failed"
                         : incomplete ? "response.incomplete"
                                      : "response.completed";
      emit(kind, {{"response", resp}});
      res_->end_stream();
    } else if (r.error) {
      status_ = 500;
      ApiError e(500, *r.error, "internal_server_error");
      res_->send(500, "application/json", dump_json(e.to_json()));
    } else {
      res_->send(200, "application/json", dump_json(resp));
    }
  }

  void on_finished(const serving::GenerationSummary& s) override {
    if (on_finished_) on_finished_(base_["id"], status_, s);
  }

 private:
  void emit(const char* type, json ev) {
    ev["type"] = type;
    ev["sequence_number"] = seq_++;
    res_->write(fmt::format("event: {}\ndata: {}\n\n", type, dump_json(ev)));
  }
  json reasoning_item(bool incomplete) const {
    return {{"id", rs_id_},
            {"type", "reasoning"},
            {"summary", json::array()},
            {"content", json::array({{{"type", "reasoning_text"}, {"text", reasoning_}}})},
            {"encrypted_content", nullptr},
            {"status", incomplete ? "incomplete" : "completed"}};
  }
  json text_part(const std::string& text) const {
    return {
        {"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
  }
  json message_item(bool incomplete) const {
    return {{"id", msg_id_},
            {"type", "message"},
            {"role", "assistant"},
            {"status", incomplete ? "incomplete" : "completed"},
            {"content", json::array({text_part(content_)})}};
  }
  // A function_call output item; its id is fc_ + the call id's hex.
  json call_item(size_t i, bool done) const {
    const serving::ToolCall& c = calls_[i].call;
    return {{"id", "fc_" + c.id.substr(5)},
            {"type", "function_call"},
            {"call_id", c.id},
            {"name", c.name},
            {"arguments", done ? c.arguments : ""},
            {"status", done ? "completed" : "in_progress"}};
  }
  // A whole call, streamed as it arrives: added, its arguments in one delta, done.
  void stream_call(size_t i) {
    const int index = calls_[i].output_index = next_index_++;
    const std::string id = "fc_" + calls_[i].call.id.substr(5);
    emit("response.output_item.added", {{"output_index", index}, {"item", call_item(i, false)}});
    emit("response.function_call_arguments.delta",
         {{"item_id", id}, {"output_index", index}, {"delta", calls_[i].call.arguments}});
    emit("response.function_call_arguments.done", {{"item_id", id},
                                                   {"output_index", index},
                                                   {"name", calls_[i].call.name},
                                                   {"arguments", calls_[i].call.arguments}});
    emit("response.output_item.done", {{"output_index", index}, {"item", call_item(i, true)}});
  }
  void open_reasoning() {
    if (rs_index_ >= 0) return;
    rs_index_ = next_index_++;
    emit("response.output_item.added",
         {{"output_index", rs_index_},
          {"item",
           {{"id", rs_id_}, {"type", "reasoning"}, {"summary", json::array()}, {"status", "in_progress"}}}});
    emit("response.content_part.added", {{"item_id", rs_id_},
                                         {"output_index", rs_index_},
                                         {"content_index", 0},
                                         {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
  }
  void close_reasoning() {
    if (rs_index_ < 0 || rs_closed_) return;
    rs_closed_ = true;
    emit("response.reasoning_text.done",
         {{"item_id", rs_id_}, {"output_index", rs_index_}, {"content_index", 0}, {"text", reasoning_}});
    emit("response.content_part.done", {{"item_id", rs_id_},
                                        {"output_index", rs_index_},
                                        {"content_index", 0},
                                        {"part", {{"type", "reasoning_text"}, {"text", reasoning_}}}});
    emit("response.output_item.done", {{"output_index", rs_index_}, {"item", reasoning_item(false)}});
  }
  void open_message() {
    if (msg_index_ >= 0) return;
    msg_index_ = next_index_++;
    emit("response.output_item.added", {{"output_index", msg_index_},
                                        {"item",
                                         {{"id", msg_id_},
                                          {"type", "message"},
                                          {"role", "assistant"},
                                          {"status", "in_progress"},
                                          {"content", json::array()}}}});
    emit("response.content_part.added",
         {{"item_id", msg_id_}, {"output_index", msg_index_}, {"content_index", 0}, {"part", text_part("")}});
  }
  void close_message(bool incomplete) {
    if (msg_index_ < 0) return;
    emit("response.output_text.done", {{"item_id", msg_id_},
                                       {"output_index", msg_index_},
                                       {"content_index", 0},
                                       {"text", content_},
                                       {"logprobs", json::array()}});
    emit("response.content_part.done", {{"item_id", msg_id_},
                                        {"output_index", msg_index_},
                                        {"content_index", 0},
                                        {"part", text_part(content_)}});
    emit("response.output_item.done", {{"output_index", msg_index_}, {"item", message_item(incomplete)}});
  }

  json base_;
  bool stream_, reasoning_enabled_;
  std::shared_ptr<HttpResponder> res_;
  std::shared_ptr<ResponseStore> store_;
  bool keep_;
  json conversation_;
  OnGenerationFinished on_finished_;
  std::string rs_id_, msg_id_, reasoning_, content_;
  struct Call {
    serving::ToolCall call;
    int output_index;
  };
  std::vector<Call> calls_;
  int rs_index_ = -1, msg_index_ = -1, next_index_ = 0;
  bool rs_closed_ = false;
  uint64_t seq_ = 0;
  int status_ = 200;
};

}  // namespace

std::shared_ptr<serving::GenerationObserver> make_response_writer(
    json base, bool stream, bool reasoning_enabled, std::shared_ptr<HttpResponder> res,
    std::shared_ptr<ResponseStore> store, bool keep, json conversation, OnGenerationFinished on_finished) {
  return std::make_shared<ResponseWriter>(std::move(base), stream, reasoning_enabled, std::move(res),
                                          std::move(store), keep, std::move(conversation),
                                          std::move(on_finished));
}

}  // namespace r1::server
