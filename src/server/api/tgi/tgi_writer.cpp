#include "server/api/tgi/tgi_writer.h"

#include "server/api/tgi/tgi_error.h"
#include "server/api_error.h"

namespace r1::server::tgi {

using nlohmann::json;

namespace {
const HeaderList kStreamHeaders = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
}

void send_stream_error(HttpResponder& res, const json& error) {
  res.begin_stream(200, "text/event-stream", kStreamHeaders);
  res.write(sse_event(error));
  res.end_stream();
}

TgiWriter::TgiWriter(TgiCall call) : c_(std::move(call)) {}

void TgiWriter::on_started() {
  if (c_.stream) c_.res->begin_stream(200, "text/event-stream", kStreamHeaders);
}

void TgiWriter::on_delta(const serving::ChoiceDelta& d) {
  if (!c_.stream) return;
  for (const auto& e : d.logprobs) {
    if (held_) {
      json top = c_.request.top_n_tokens > 0 ? top_tokens_json(*held_, c_.is_special) : json::array();
      c_.res->write(sse_event(stream_event(++index_, *held_, top, std::nullopt, nullptr)));
    }
    held_ = e;
  }
}

void TgiWriter::on_complete(const serving::GenerateResult& r) {
  if (r.error) {
    TgiError e = generation_error(*r.error);
    status_ = e.status;
    if (c_.stream) {
      c_.res->write(sse_event(e.to_json()));
      c_.res->end_stream();
    } else {
      send_error(*c_.res, e);
    }
    return;
  }
  if (r.timed_out && r.completion_tokens == 0 && !c_.stream) {
    // Timed out before its first token: the timeout is the answer (with tokens: finish_reason "length").
    TgiError e{408, "timeout", *r.timed_out};
    status_ = e.status;
    send_error(*c_.res, e);
    return;
  }
  const serving::ChoiceResult& ch = r.choices.at(0);
  if (c_.stream) {
    // Every generation has at least one token (max_new_tokens >= 1); the fallback only keeps the last event
    // well-formed should the engine end one without any.
    serving::LogprobEntry last = held_.value_or(serving::LogprobEntry{});
    json top = c_.request.top_n_tokens > 0 ? top_tokens_json(last, c_.is_special) : json::array();
    c_.res->write(sse_event(
        stream_event(++index_, last, top, generated_text(c_.request, ch), stream_details(c_.request, r))));
    c_.res->end_stream();
    return;
  }
  json body = generate_response(c_.request, r, c_.is_special);
  if (c_.compat) body = json::array({std::move(body)});
  c_.res->send(200, "application/json", dump_json(body),
               {{"x-compute-type", "cpu"},
                {"x-prompt-tokens", std::to_string(r.prompt_tokens)},
                {"x-generated-tokens", std::to_string(ch.completion_tokens)}});
}

void TgiWriter::on_finished(const serving::GenerationSummary& s) {
  if (c_.on_finished) c_.on_finished(c_.id, status_, s);
}

}  // namespace r1::server::tgi
