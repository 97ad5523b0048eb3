#pragma once
// What a GGUF model file carries beside its weights, for turning text into tokens and back: its tokenizer
// (tokenizer.ggml.*), the special-token strings templates use, and its chat template
// (tokenizer.chat_template).
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace r1::serving {

struct GgufText {
  std::unique_ptr<Tokenizer> tokenizer;
  nlohmann::json special_tokens = nlohmann::json::object();  // bos_token / eos_token
  std::optional<ChatTemplate> chat_template;                 // none when the file has no template
};

// Reads the metadata of the GGUF file at `path` (not its tensors). Throws r1::Error naming the file when it
// has no tokenizer or a malformed one, or a template that does not parse.
GgufText load_gguf_text(const std::string& path);

}  // namespace r1::serving
