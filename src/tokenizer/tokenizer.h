#pragma once
// A Hugging Face tokenizer.json tokenizer: byte-level BPE (GPT-2, Llama 3, Qwen2 and the R1 distills) and
// SentencePiece-style BPE with byte fallback (Llama 2, stories260K). encode() gives the ids Hugging Face's
// tokenizer.encode gives; decode() the text its decode gives. Immutable after loading, so one instance may be
// shared by any number of threads.
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace r1 {

class Tokenizer {
 public:
  // DIR/tokenizer.json plus DIR/tokenizer_config.json (bos/eos tokens, add_bos_token) when present; nullptr
  // when the folder has no tokenizer.json. Throws r1::Error naming the file and the construct for anything
  // malformed or unsupported.
  static std::unique_ptr<Tokenizer> from_dir(const std::string& dir);
  static std::unique_ptr<Tokenizer> from_files(const std::string& tokenizer_json,
                                               const std::string& tokenizer_config_json = "");
  // From the documents themselves (a GGUF file's tokenizer, tokenizer/gguf_tokenizer.h); `origin` names them
  // in errors. `config` may be null.
  static std::unique_ptr<Tokenizer> from_json(const nlohmann::json& tokenizer, const nlohmann::json* config,
                                              const std::string& origin);
  ~Tokenizer();

  // Added/special tokens written in the text are always recognised (as Hugging Face does); add_special_tokens
  // adds what the post-processor (or, for Llama tokenizers, add_bos_token/add_eos_token) puts around the
  // text. Throws r1::Error when `text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Valid UTF-8 (invalid byte sequences become U+FFFD). Throws r1::Error for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  // The raw bytes one token contributes to decoded text (may be part of a UTF-8 character).
  // `continuation`: the token follows others, so start-of-text rules (e.g. Llama 2's leading-space strip) do
  // not apply. Throws r1::Error for an id outside the vocabulary.
  std::string token_bytes(int32_t id, bool continuation) const;

  // One more than the largest id of the vocabulary or the added tokens.
  size_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token as written in tokenizer.json ("Ġthe", "<0x0A>", "<|im_start|>"); empty for an unknown id.
  std::string id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  // An added token (special or not, e.g. R1's <think>): matched as a whole in text, never by the BPE model.
  bool is_added(int32_t id) const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  // From tokenizer_config.json; empty when it names none. For chat templates.
  const std::string& bos_token() const;
  const std::string& eos_token() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r1
