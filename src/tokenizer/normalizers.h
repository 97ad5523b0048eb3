#pragma once
// tokenizer.json "normalizer": NFC/NFD/NFKC/NFKD (utf8proc), Lowercase, Strip, Replace, Prepend and Sequence.
// Anything else is an error naming the file and the type, never a silent skip.
#include <memory>
#include <string>

#include "tokenizer/json_fields.h"

namespace r1::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `text` (valid UTF-8 in, valid UTF-8 out).
  virtual void normalize(std::string& text) const = 0;
};

// nullptr for a JSON null (no normalizer).
std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonPlace& at);

// Replaces every match of a String or Regex pattern ({"String": "..."} or {"Regex": "..."}) with `content`;
// shared by the Replace normalizer and the Replace decoder.
class PatternReplacer {
 public:
  PatternReplacer(const json& pattern, std::string content, const JsonPlace& at);
  ~PatternReplacer();
  void apply(std::string& text) const;

 private:
  std::string literal_;
  std::unique_ptr<class Regex> regex_;
  std::string content_;
};

}  // namespace r1::tok
