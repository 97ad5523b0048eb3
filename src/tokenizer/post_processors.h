#pragma once
// tokenizer.json "post_processor": the special tokens add_special_tokens puts around a single sequence.
// Supported: TemplateProcessing, ByteLevel (offsets only: no ids), RobertaProcessing, BertProcessing,
// Sequence.
#include <cstdint>
#include <vector>

#include "tokenizer/json_fields.h"

namespace r1::tok {

// What surrounds the encoded text when special tokens are added: prefix ids, the text, suffix ids.
struct SpecialTokenTemplate {
  std::vector<int32_t> prefix, suffix;
};

// The template for a single sequence; empty for a JSON null.
SpecialTokenTemplate parse_post_processor(const json& j, const JsonPlace& at);

}  // namespace r1::tok
