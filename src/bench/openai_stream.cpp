#include "bench/openai_stream.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace r1::bench {

namespace {

using json = nlohmann::json;

// A short, printable excerpt of untrusted text for error messages.
std::string excerpt(const std::string& s) {
  std::string out = s.substr(0, 200);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return s.size() > 200 ? out + "…" : out;
}

const std::string* string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::optional<int64_t> int_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_number_integer()) return it->get<int64_t>();
  return std::nullopt;
}

}  // namespace

void OpenAiStream::on_event(const SseEvent& e, double t_ms) {
  if (!r_.error.empty() || r_.saw_done) return;
  if (e.data == "[DONE]") {
    r_.saw_done = true;
    return;
  }
  json j = json::parse(e.data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    r_.error = fmt::format("an event that is not a JSON object: {}", excerpt(e.data));
    return;
  }
  if (auto it = j.find("error"); it != j.end() && !it->is_null()) {
    const std::string* msg = it->is_object() ? string_at(*it, "message") : nullptr;
    r_.error = fmt::format("the server sent an error: {}", msg ? excerpt(*msg) : excerpt(it->dump()));
    return;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    r_.prompt_tokens = int_at(*u, "prompt_tokens");
    r_.completion_tokens = int_at(*u, "completion_tokens");
    if (auto d = u->find("completion_tokens_details"); d != u->end() && d->is_object())
      r_.reasoning_tokens = int_at(*d, "reasoning_tokens");
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) {
    // The usage-only final chunk of stream_options.include_usage has "choices": []; anything without a
    // choices array at all is not an OpenAI chunk.
    r_.error = fmt::format("an event without a \"choices\" array: {}", excerpt(e.data));
    return;
  }
  bool got_text = false;
  for (const json& c : *choices) {
    if (!c.is_object()) continue;
    if (const std::string* f = string_at(c, "finish_reason")) r_.finish_reason = *f;
    const json* src = &c;  // text completions put "text" on the choice; chat puts fields in "delta"
    if (auto d = c.find("delta"); d != c.end() && d->is_object()) src = &*d;
    const std::string* reasoning = string_at(*src, "reasoning_content");
    if (!reasoning) reasoning = string_at(*src, "reasoning");
    if (reasoning && !reasoning->empty()) {
      explicit_reasoning_ = true;
      r_.reasoning += *reasoning;
      ++r_.reasoning_events;
      got_text = true;
    }
    const std::string* text = string_at(*src, "content");
    if (!text) text = string_at(*src, "text");
    if (text && !text->empty()) {
      r_.answer += *text;
      answer_ends_.push_back(r_.answer.size());
      ++r_.answer_events;
      got_text = true;
    }
  }
  if (got_text) r_.token_times_ms.push_back(t_ms);
}

const StreamResult& OpenAiStream::finish() {
  if (!finished_) {
    finished_ = true;
    if (!explicit_reasoning_) split_inline_reasoning();
  }
  return r_;
}

// R1 distills think first and close with "</think>"; a server that does not split reasoning streams it as
// content. Everything up to and including the event that completes the tag counts as reasoning. Without the
// tag the split is unknowable and all text stays answer.
void OpenAiStream::split_inline_reasoning() {
  static const std::string kClose = "</think>";
  size_t at = r_.answer.find(kClose);
  if (at == std::string::npos) return;
  size_t tag_end = at + kClose.size();
  size_t events = 0;
  while (events < answer_ends_.size() && answer_ends_[events] < tag_end) ++events;
  if (events < answer_ends_.size()) ++events;  // the event in which the tag completes
  std::string think = r_.answer.substr(0, at);
  if (think.rfind("<think>", 0) == 0) think.erase(0, 7);
  r_.reasoning = think;
  r_.answer.erase(0, tag_end);
  r_.reasoning_events = events;
  r_.answer_events -= events;
}

}  // namespace r1::bench
