#pragma once
// Test-only: reads the tokenizer metadata of a vocab-only GGUF file (llama.cpp's ggml-vocab-*.gguf) and
// writes the equivalent Hugging Face tokenizer.json, the way transformers converts a SentencePiece BPE model.
#include <cstdint>
#include <string>
#include <vector>

namespace r1::test {

struct GgufVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // 1 normal, 2 unknown, 3 control, 6 byte
};
GgufVocab read_gguf_vocab(const std::string& path);

// Llama 2's tokenizer.json layout (Prepend/Replace normalizer, BPE with byte_fallback, merges ranked by the
// merged piece's score as transformers' SentencePieceExtractor does) plus a LlamaTokenizer
// tokenizer_config.json.
void write_spm_tokenizer_json(const GgufVocab& v, const std::string& dir);

}  // namespace r1::test
