#pragma once
// tokenizer.json "pre_tokenizer": splits normalized text into the words BPE sees. Supported: Split (regex or
// literal, every delimiter behavior, invert), ByteLevel (GPT-2 regex, add_prefix_space; its byte mapping is
// done by the BPE model, which stores ByteLevel vocabularies as raw bytes), Metaspace, Digits,
// WhitespaceSplit, Sequence.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace r1::tok {

struct Piece {
  std::string text;
  bool at_input_start = false;  // begins at offset 0 of the original input (Metaspace prepend_scheme "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits (and may rewrite) every piece in `pieces`.
  virtual void apply(std::vector<Piece>& pieces) const = 0;
  // True when this pre-tokenizer (or one in its sequence) is ByteLevel: the vocabulary is in GPT-2's byte
  // alphabet.
  virtual bool byte_level() const { return false; }
};

// nullptr for a JSON null (no pre-tokenizer: the whole normalized text is one word).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonPlace& at);

}  // namespace r1::tok
