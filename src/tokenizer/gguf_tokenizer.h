#pragma once
// A GGUF file's tokenizer (the tokenizer.ggml.* metadata llama.cpp writes) as the tokenizer.json and
// tokenizer_config.json Hugging Face would hold for it, so one loader and one encoder serve both: a
// gpt2-style byte-level BPE with its merges and the pre-tokenizer named by tokenizer.ggml.pre, or a
// SentencePiece-style `llama` vocabulary (merges ranked by the merged piece's score, as transformers converts
// one).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace r1 {

struct GgufTokenizerJson {
  nlohmann::json tokenizer;  // tokenizer.json's equivalent
  nlohmann::json config;     // tokenizer_config.json's: bos/eos tokens, add_bos_token/add_eos_token
  std::optional<std::string> chat_template;  // tokenizer.chat_template
};

// `metadata`: the file's key/values (model/gguf_file.h), `file` names it in errors. nullopt when the file has
// no tokenizer.ggml.model. Throws r1::Error naming the file and key for a malformed or unsupported tokenizer
// (pre-tokenizers: default/gpt-2, qwen2, deepseek-r1-qwen, llama-bpe/llama3; models: gpt2, llama).
std::optional<GgufTokenizerJson> gguf_tokenizer_json(const nlohmann::ordered_json& metadata,
                                                     const std::string& file);

}  // namespace r1
