#pragma once
// The regular expressions of tokenizer.json (Split pre-tokenizers, Replace normalizers), compiled with PCRE2
// in UTF + UCP mode so \p{L}, \s and (?i:...) mean what the Unicode-aware engines Hugging Face uses mean.
// Thread-safe: the compiled pattern is shared, match state is per thread.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::tok {

class Regex {
 public:
  // Throws r1::Error naming `where` when PCRE2 rejects the pattern.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches, left to right, as [begin, end) byte offsets; empty matches are skipped.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::string where_;
  void* code_ = nullptr;  // pcre2_code_8
  bool jit_ = false;
};

}  // namespace r1::tok
