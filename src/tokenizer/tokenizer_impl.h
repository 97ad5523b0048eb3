#pragma once
// The parts a Tokenizer is made of, in pipeline order (internal to src/tokenizer).
#include <memory>
#include <optional>
#include <string>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer.h"

namespace r1 {

struct Tokenizer::Impl {
  std::unique_ptr<tok::AddedTokens> added;
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::BpeModel> model;
  tok::SpecialTokenTemplate specials;  // what add_special_tokens adds
  std::unique_ptr<tok::Decoder> decoder;
  std::string bos_token, eos_token;
  std::optional<int32_t> bos_id, eos_id;
};

// Builds the parts from tokenizer.json (and tokenizer_config.json when the path is not empty).
std::unique_ptr<Tokenizer::Impl> load_tokenizer_parts(const std::string& tokenizer_json,
                                                      const std::string& tokenizer_config_json);
// The same from parsed JSON; the names are what errors call the two documents. `config` may be null.
std::unique_ptr<Tokenizer::Impl> load_tokenizer_parts(const nlohmann::json& tokenizer,
                                                      const std::string& tokenizer_json,
                                                      const nlohmann::json* config,
                                                      const std::string& tokenizer_config_json);

}  // namespace r1
