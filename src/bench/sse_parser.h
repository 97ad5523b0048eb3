#pragma once
// Incremental parser for Server-Sent Events (the WHATWG "event stream" format) as OpenAI-compatible servers
// stream them. Bytes may arrive split anywhere (inside a field name, between \r and \n, mid UTF-8 sequence);
// feed() keeps the unfinished line and emits each event once its terminating blank line arrives.
#include <functional>
#include <string>
#include <string_view>

namespace r1::bench {

struct SseEvent {
  std::string event;  // the "event:" field; empty means the default "message"
  std::string data;   // "data:" lines joined with '\n' (one leading space after the colon removed)
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;
  explicit SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

  void feed(std::string_view bytes);
  // End of stream: an event left without its blank line is dispatched anyway (servers that close right after
  // "data: [DONE]\n" are common), as the spec's truncation rule would drop it but every OpenAI client keeps
  // it.
  void finish();

  // Events with data seen so far; zero after a whole reply means the server did not speak SSE.
  size_t events_dispatched() const { return dispatched_; }

 private:
  void line(std::string_view l);
  void dispatch();

  Callback on_event_;
  std::string partial_;  // the current unfinished line
  bool last_was_cr_ = false;
  bool have_data_ = false;
  SseEvent pending_;
  size_t dispatched_ = 0;
};

}  // namespace r1::bench
