#pragma once
// tokenizer.json "model" of type BPE: vocabulary, merges by rank (both the "a b" and the ["a", "b"] formats),
// byte_fallback with <0xXX> tokens, unk (fused or not), ignore_merges (Llama 3). For ByteLevel tokenizers the
// words arrive as raw bytes and each byte starts as the token of its GPT-2 alphabet character, so no
// byte-to-character rewriting happens per word.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"

namespace r1::tok {

class BpeModel {
 public:
  BpeModel(const json& model, bool byte_level, const JsonPlace& at);

  // Appends the ids of one pre-tokenized word.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  // Model vocabulary only (added tokens live in AddedTokens); token strings as written in tokenizer.json.
  size_t size() const { return id_to_token_.size(); }
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Empty when `id` has no vocabulary entry.
  const std::string& id_to_token(int32_t id) const;

 private:
  struct MergeResult {
    int32_t rank;
    int32_t id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  // Vocabulary lookup of a word in model space (raw bytes for ByteLevel).
  std::optional<int32_t> lookup(std::string_view piece) const;
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;
  void merge(std::vector<int32_t>& ids) const;

  bool byte_level_;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  std::optional<int32_t> unk_id_;
  // Hashes std::string and std::string_view alike, so lookups of a view allocate nothing.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // model space: raw bytes for ByteLevel
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> piece_to_id_;
  std::vector<std::string> id_to_token_;  // as written in tokenizer.json ("" for gaps)
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::array<int32_t, 256>
      byte_ids_;  // ByteLevel: byte -> id; byte_fallback: byte -> id of <0xXX>; -1 if none

  // Words repeat (Zipf): remembering short words' ids skips most merging. Bounded; shared by threads.
  static constexpr size_t kCacheMaxWordBytes = 48, kCacheMaxEntries = 1 << 17;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace r1::tok
