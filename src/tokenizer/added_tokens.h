#pragma once
// tokenizer.json "added_tokens": tokens matched in the text before normalization and BPE, as Hugging Face's
// AddedVocabulary does — leftmost, then longest; lstrip/rstrip swallow neighbouring whitespace; single_word
// tokens only match between non-word characters; normalized=false tokens match the raw text, normalized=true
// tokens match the normalized text.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"

namespace r1::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// A run of text between added tokens (token < 0), or one matched added token (text empty).
struct Segment {
  std::string_view text;
  size_t offset = 0;  // byte offset of `text` in the string that was split
  int32_t token = -1;
};

class AddedTokens {
 public:
  AddedTokens(const json& list, const JsonPlace& at);

  // Splits `text` on the tokens whose `normalized` flag equals `normalized`.
  void split(std::string_view text, bool normalized, std::vector<Segment>& out) const;

  const AddedToken* find(int32_t id) const;
  std::optional<int32_t> find(std::string_view content) const;
  bool has_normalized() const { return any_normalized_; }
  int32_t max_id() const { return max_id_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  // [normalized][first byte] -> token indices, longest content first.
  std::array<std::array<std::vector<size_t>, 256>, 2> first_byte_;
  bool any_normalized_ = false;
  int32_t max_id_ = -1;
};

}  // namespace r1::tok
