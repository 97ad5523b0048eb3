#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace r1 {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path json = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(json)) return nullptr;
  fs::path cfg = fs::path(dir) / "tokenizer_config.json";
  return from_files(json.string(), fs::exists(cfg) ? cfg.string() : "");
}

std::unique_ptr<Tokenizer> Tokenizer::from_files(const std::string& tokenizer_json,
                                                 const std::string& tokenizer_config_json) {
  return std::unique_ptr<Tokenizer>(
      new Tokenizer(load_tokenizer_parts(tokenizer_json, tokenizer_config_json)));
}

std::unique_ptr<Tokenizer> Tokenizer::from_json(const nlohmann::json& tokenizer, const nlohmann::json* config,
                                                const std::string& origin) {
  return std::unique_ptr<Tokenizer>(new Tokenizer(load_tokenizer_parts(tokenizer, origin, config, origin)));
}

namespace {

// Pre-tokenizes one run of normalized text and appends its BPE ids.
void encode_words(const Tokenizer::Impl& t, std::string_view text, bool at_input_start,
                  std::vector<int32_t>& ids) {
  if (text.empty()) return;
  if (!t.pre_tokenizer) {
    t.model->encode_word(text, ids);
    return;
  }
  std::vector<tok::Piece> pieces;
  pieces.push_back({std::string(text), at_input_start});
  t.pre_tokenizer->apply(pieces);
  for (const tok::Piece& p : pieces) t.model->encode_word(p.text, ids);
}

// One run of raw text between non-normalized added tokens: normalize, match normalized added tokens, BPE the
// rest.
void encode_gap(const Tokenizer::Impl& t, std::string_view text, bool at_input_start,
                std::vector<int32_t>& ids) {
  std::string norm(text);
  if (t.normalizer) t.normalizer->normalize(norm);
  if (!t.added->has_normalized()) return encode_words(t, norm, at_input_start, ids);
  std::vector<tok::Segment> segs;
  t.added->split(norm, true, segs);
  for (const tok::Segment& s : segs) {
    if (s.token >= 0)
      ids.push_back(s.token);
    else
      encode_words(t, s.text, at_input_start && s.offset == 0, ids);
  }
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  if (size_t bad = tok::find_invalid_utf8(text); bad != std::string_view::npos)
    fail("text to encode is not valid UTF-8 (byte {} of {})", bad, text.size());
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special_tokens) ids = t.specials.prefix;
  std::vector<tok::Segment> segs;
  t.added->split(text, false, segs);
  for (const tok::Segment& s : segs) {
    if (s.token >= 0)
      ids.push_back(s.token);
    else
      encode_gap(t, s.text, s.offset == 0, ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), t.specials.suffix.begin(), t.specials.suffix.end());
  return ids;
}

namespace {

const std::string& token_string(const Tokenizer::Impl& t, int32_t id) {
  if (const tok::AddedToken* a = t.added->find(id)) return a->content;
  const std::string& s = t.model->id_to_token(id);
  if (s.empty()) fail("token id {} is not in the vocabulary", id);
  return s;
}

std::string run_decoder(const Tokenizer::Impl& t, std::vector<std::string>& tokens, bool continuation) {
  std::string out;
  if (!t.decoder) {
    // Hugging Face joins tokens with spaces when tokenizer.json has no decoder.
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 || continuation) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  t.decoder->decode_chain(tokens, continuation);
  for (const std::string& s : tokens) out += s;
  return out;
}

}  // namespace

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    tokens.push_back(token_string(*impl_, id));
  }
  return tok::to_valid_utf8(run_decoder(*impl_, tokens, false));
}

std::string Tokenizer::token_bytes(int32_t id, bool continuation) const {
  std::vector<std::string> tokens{token_string(*impl_, id)};
  return run_decoder(*impl_, tokens, continuation);
}

size_t Tokenizer::vocab_size() const {
  return std::max(impl_->model->size(), size_t(impl_->added->max_id() + 1));
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added->find(token)) return id;
  return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (const tok::AddedToken* a = impl_->added->find(id)) return a->content;
  return impl_->model->id_to_token(id);
}

bool Tokenizer::is_special(int32_t id) const {
  const tok::AddedToken* a = impl_->added->find(id);
  return a && a->special;
}

bool Tokenizer::is_added(int32_t id) const {
  return impl_->added->find(id) != nullptr;
}

std::optional<int32_t> Tokenizer::bos_id() const {
  return impl_->bos_id;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return impl_->eos_id;
}
const std::string& Tokenizer::bos_token() const {
  return impl_->bos_token;
}
const std::string& Tokenizer::eos_token() const {
  return impl_->eos_token;
}

}  // namespace r1
