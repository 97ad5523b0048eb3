#pragma once
// Reads the events of one streamed OpenAI-compatible reply (chat or text completion) and keeps what the
// benchmark measures: when each piece of text arrived, reasoning vs answer text, usage, finish, errors.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/sse_parser.h"

namespace r1::bench {

struct StreamResult {
  bool saw_done = false;                     // "data: [DONE]" arrived
  std::optional<std::string> finish_reason;  // from the last choice that had one
  // Arrival time (ms since the request was sent) of every event that carried text (reasoning or answer).
  std::vector<double> token_times_ms;
  std::string
      reasoning;       // delta.reasoning_content / delta.reasoning, or the inline "<think>" part of the text
  std::string answer;  // delta.content / choices[].text after any inline reasoning
  size_t reasoning_events = 0, answer_events = 0;
  std::optional<int64_t> prompt_tokens, completion_tokens, reasoning_tokens;  // from "usage", when sent
  std::string error;  // first problem: an {"error": ...} event or an event that is not an OpenAI chunk
};

class OpenAiStream {
 public:
  // Feeds one SSE event that arrived `t_ms` after the request was sent.
  void on_event(const SseEvent& e, double t_ms);
  // Call once the reply ended; splits inline "<think>…</think>" text when the server did not split it.
  const StreamResult& finish();
  const StreamResult& result() const { return r_; }

 private:
  void split_inline_reasoning();

  StreamResult r_;
  bool explicit_reasoning_ = false;  // the server used a reasoning field at least once
  std::vector<size_t> answer_ends_;  // r_.answer.size() after each answer event, for the inline split
  bool finished_ = false;
};

}  // namespace r1::bench
