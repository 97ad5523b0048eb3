#include "serving/reasoning_parser.h"

namespace r1::serving {

namespace {
constexpr std::string_view kEnd = "</think>";
constexpr std::string_view kStart = "<think>";

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag(std::string_view s, std::string_view tag) {
  for (size_t len = std::min(s.size(), tag.size() - 1); len > 0; --len)
    if (s.substr(s.size() - len) == tag.substr(0, len)) return len;
  return 0;
}
}  // namespace

ReasoningParser::ReasoningParser(bool in_reasoning) : in_reasoning_(in_reasoning) {}

ReasoningParser::Delta ReasoningParser::push(std::string_view text) {
  Delta d;
  if (!in_reasoning_) {
    // Content: drop newlines until the first other character (the seam after </think>).
    if (!content_started_) {
      size_t i = text.find_first_not_of("\r\n");
      if (i == std::string_view::npos) return d;
      text.remove_prefix(i);
      content_started_ = true;
    }
    d.content.append(text);
    return d;
  }
  pending_.append(text);
  if (at_start_) {
    // The model may repeat <think> (and a newline) although the template opened it.
    size_t i = pending_.find_first_not_of("\r\n");
    if (i == std::string::npos) return d;
    std::string_view rest = std::string_view(pending_).substr(i);
    if (rest.size() < kStart.size() && kStart.substr(0, rest.size()) == rest) return d;  // maybe <think>
    if (rest.starts_with(kStart)) rest.remove_prefix(kStart.size());
    size_t j = rest.find_first_not_of("\r\n");
    if (j == std::string_view::npos) {
      pending_.clear();
      return d;
    }
    pending_ = std::string(rest.substr(j));
    at_start_ = false;
  }
  size_t end = pending_.find(kEnd);
  if (end != std::string::npos) {
    std::string reasoning = pending_.substr(0, end);
    std::string after = pending_.substr(end + kEnd.size());
    pending_.clear();
    while (!reasoning.empty() && (reasoning.back() == '\n' || reasoning.back() == '\r')) reasoning.pop_back();
    d.reasoning = std::move(reasoning);
    in_reasoning_ = false;
    Delta c = push(after);
    d.content = std::move(c.content);
    return d;
  }
  // Hold back a possible "</thi" and, before it, trailing newlines (they may be the seam before </think>).
  size_t keep = partial_tag(pending_, kEnd);
  size_t cut = pending_.size() - keep;
  while (cut > 0 && (pending_[cut - 1] == '\n' || pending_[cut - 1] == '\r')) --cut;
  d.reasoning = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return d;
}

ReasoningParser::Delta ReasoningParser::flush() {
  Delta d;
  if (in_reasoning_) {
    // Cut before </think>: all reasoning. Trailing newlines go, as they would at the seam.
    std::string r = std::move(pending_);
    pending_.clear();
    if (at_start_) {
      size_t i = r.find_first_not_of("\r\n");
      r = i == std::string::npos ? "" : r.substr(i);
      if (std::string_view(r) == kStart.substr(0, r.size())) r.clear();
    }
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r')) r.pop_back();
    d.reasoning = std::move(r);
  }
  return d;
}

}  // namespace r1::serving
