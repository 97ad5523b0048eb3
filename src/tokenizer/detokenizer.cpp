#include "tokenizer/detokenizer.h"

#include "tokenizer/utf8.h"

namespace r1 {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(tok), skip_special_(skip_special_tokens) {}

std::string IncrementalDetokenizer::push(int32_t id) {
  if (skip_special_ && tok_.is_special(id)) return {};
  pending_ += tok_.token_bytes(id, started_);
  started_ = true;
  size_t n = tok::complete_utf8_prefix(pending_);
  if (n == 0) return {};
  std::string out = tok::to_valid_utf8(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out;
}

std::string IncrementalDetokenizer::flush() {
  std::string out = tok::to_valid_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace r1
