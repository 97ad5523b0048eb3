#pragma once
// Streaming decode: feed generated ids one at a time, get text that is always complete UTF-8 — a character
// split across byte-level or byte-fallback tokens comes out whole once its last byte arrives — and that
// concatenates to exactly what Tokenizer::decode gives for the whole sequence.
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace r1 {

class IncrementalDetokenizer {
 public:
  // `tok` must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tok, bool skip_special_tokens);
  // Text completed by this id (may be empty while a character is incomplete).
  std::string push(int32_t id);
  // The rest: bytes still waiting for the end of a character, as U+FFFD.
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  bool started_ = false;  // a token has reached the decoder, so later ones are continuations
  std::string pending_;   // bytes of an unfinished UTF-8 character
};

}  // namespace r1
