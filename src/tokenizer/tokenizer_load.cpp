// Loading tokenizer.json and tokenizer_config.json into a Tokenizer's parts.
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"

namespace r1 {

namespace {

using tok::json;
using tok::JsonPlace;

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

const json& member_or_null(const json& obj, const char* key) {
  static const json kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// bos_token / eos_token in tokenizer_config.json: a string, {"content": ...} (AddedToken), or null.
std::string config_token(const json& cfg, const char* key, const JsonPlace& at) {
  const json& v = member_or_null(cfg, key);
  if (v.is_null()) return {};
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return tok::need_string(v, "content", at.field(key));
  tok::fail_at(at.field(key), "expected a string or an object with \"content\"");
}

// transformers' LlamaTokenizer(Fast) rebuilds its post-processor from add_bos_token / add_eos_token (defaults
// true / false), overriding tokenizer.json; other classes use the file's post-processor as written.
bool rebuilds_template_from_config(const std::string& tokenizer_class) {
  return tokenizer_class == "LlamaTokenizer" || tokenizer_class == "LlamaTokenizerFast" ||
         tokenizer_class == "CodeLlamaTokenizer" || tokenizer_class == "CodeLlamaTokenizerFast";
}

}  // namespace

std::unique_ptr<Tokenizer::Impl> load_tokenizer_parts(const std::string& tokenizer_json,
                                                      const std::string& tokenizer_config_json) {
  json j = read_json_file(tokenizer_json);
  if (tokenizer_config_json.empty()) return load_tokenizer_parts(j, tokenizer_json, nullptr, "");
  json cfg = read_json_file(tokenizer_config_json);
  return load_tokenizer_parts(j, tokenizer_json, &cfg, tokenizer_config_json);
}

std::unique_ptr<Tokenizer::Impl> load_tokenizer_parts(const json& j, const std::string& tokenizer_json,
                                                      const json* config,
                                                      const std::string& tokenizer_config_json) {
  auto impl = std::make_unique<Tokenizer::Impl>();
  JsonPlace root{tokenizer_json, ""};
  tok::need_object(j, root);

  impl->added =
      std::make_unique<tok::AddedTokens>(member_or_null(j, "added_tokens"), root.field("added_tokens"));
  impl->normalizer = tok::make_normalizer(member_or_null(j, "normalizer"), root.field("normalizer"));
  impl->pre_tokenizer =
      tok::make_pre_tokenizer(member_or_null(j, "pre_tokenizer"), root.field("pre_tokenizer"));
  bool byte_level = impl->pre_tokenizer && impl->pre_tokenizer->byte_level();
  impl->model = std::make_unique<tok::BpeModel>(tok::need(j, "model", root), byte_level, root.field("model"));
  impl->specials =
      tok::parse_post_processor(member_or_null(j, "post_processor"), root.field("post_processor"));
  impl->decoder = tok::make_decoder(member_or_null(j, "decoder"), root.field("decoder"));

  auto lookup = [&](const std::string& t) -> std::optional<int32_t> {
    if (auto id = impl->added->find(t)) return id;
    return impl->model->token_to_id(t);
  };
  // Every id the post-processor adds must exist, or decoding our own output would fail later.
  for (const auto* part : {&impl->specials.prefix, &impl->specials.suffix})
    for (int32_t id : *part)
      if (!impl->added->find(id) && impl->model->id_to_token(id).empty())
        tok::fail_at(root.field("post_processor"),
                     fmt::format("special token id {} is not in the vocabulary", id));

  if (!config) return impl;
  const json& cfg = *config;
  JsonPlace cfg_at{tokenizer_config_json, ""};
  tok::need_object(cfg, cfg_at);
  impl->bos_token = config_token(cfg, "bos_token", cfg_at);
  impl->eos_token = config_token(cfg, "eos_token", cfg_at);
  for (auto [name, id] :
       {std::pair{&impl->bos_token, &impl->bos_id}, std::pair{&impl->eos_token, &impl->eos_id}}) {
    if (name->empty()) continue;
    *id = lookup(*name);
    if (!*id) tok::fail_at(cfg_at, "token \"" + *name + "\" is not in " + tokenizer_json);
  }
  if (rebuilds_template_from_config(tok::get_string(cfg, "tokenizer_class", cfg_at, ""))) {
    impl->specials = {};
    if (tok::get_bool(cfg, "add_bos_token", cfg_at, true) && impl->bos_id)
      impl->specials.prefix = {*impl->bos_id};
    if (tok::get_bool(cfg, "add_eos_token", cfg_at, false) && impl->eos_id)
      impl->specials.suffix = {*impl->eos_id};
  }
  return impl;
}

}  // namespace r1
