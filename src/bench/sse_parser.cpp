#include "bench/sse_parser.h"

namespace r1::bench {

void SseParser::feed(std::string_view bytes) {
  for (char c : bytes) {
    // Lines end in \r\n, \n or \r. A \n straight after a \r (possibly in the next chunk) ends nothing.
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = (c == '\r');
    if (c == '\r' || c == '\n') {
      line(partial_);
      partial_.clear();
    } else {
      partial_.push_back(c);
    }
  }
}

void SseParser::finish() {
  if (!partial_.empty()) {
    line(partial_);
    partial_.clear();
  }
  dispatch();
}

void SseParser::line(std::string_view l) {
  if (l.empty()) {
    dispatch();
    return;
  }
  if (l.front() == ':') return;  // comment / keep-alive
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon), value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (have_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    have_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  }
  // "id", "retry" and unknown fields do not matter to a benchmark client.
}

void SseParser::dispatch() {
  if (have_data_) {
    ++dispatched_;
    on_event_(pending_);
  }
  pending_ = SseEvent{};
  have_data_ = false;
}

}  // namespace r1::bench
