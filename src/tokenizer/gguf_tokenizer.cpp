#include "tokenizer/gguf_tokenizer.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"

namespace r1 {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// llama.cpp's token types (llama_token_type).
enum TokenType : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The split patterns of the byte-level families, as their Hugging Face tokenizer.json files have them.
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json byte_level(bool use_regex) {
  return {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

json split_then_bytes(const char* pattern) {
  return {{"type", "Sequence"},
          {"pretokenizers", json::array({{{"type", "Split"},
                                          {"pattern", {{"Regex", pattern}}},
                                          {"behavior", "Isolated"},
                                          {"invert", false}},
                                         byte_level(false)})}};
}

class Keys {
 public:
  Keys(const ordered_json& md, const std::string& file) : md_(md), file_(file) {}
  const ordered_json* find(const std::string& k) const {
    auto it = md_.find(k);
    return it == md_.end() ? nullptr : &*it;
  }
  const ordered_json& array(const std::string& k, size_t n_expected) const {
    const ordered_json* v = find(k);
    if (!v || !v->is_array()) fail("{}: missing metadata \"{}\" (an array)", file_, k);
    if (n_expected && v->size() != n_expected)
      fail("{}: metadata \"{}\" has {} entries, tokenizer.ggml.tokens {}", file_, k, v->size(), n_expected);
    return *v;
  }
  std::optional<int64_t> id(const std::string& k, size_t n_vocab) const {
    const ordered_json* v = find(k);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || size_t(v->get<int64_t>()) >= n_vocab)
      fail("{}: metadata \"{}\" must be a token id below {}, got {}", file_, k, n_vocab, v->dump());
    return v->get<int64_t>();
  }
  std::optional<bool> flag(const std::string& k) const {
    const ordered_json* v = find(k);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail("{}: metadata \"{}\" must be a bool", file_, k);
    return v->get<bool>();
  }
  std::string str(const std::string& k, const std::string& dflt) const {
    const ordered_json* v = find(k);
    if (!v) return dflt;
    if (!v->is_string()) fail("{}: metadata \"{}\" must be a string", file_, k);
    return v->get<std::string>();
  }

 private:
  const ordered_json& md_;
  const std::string& file_;
};

// SentencePiece BPE as transformers converts it: every split of a piece into two pieces of the vocabulary is
// a merge, ranked by the merged piece's score (ties keep vocabulary order, then the split position).
json spm_merges(const std::vector<std::string>& tokens, const std::vector<float>& scores) {
  std::unordered_set<std::string> in_vocab(tokens.begin(), tokens.end());
  struct Merge {
    size_t l_len, token;
    float score;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      if ((uint8_t(t[cut]) & 0xC0) == 0x80) continue;  // split on characters, not bytes
      if (in_vocab.count(t.substr(0, cut)) && in_vocab.count(t.substr(cut)))
        merges.push_back({cut, i, scores[i]});
    }
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json out = json::array();
  for (const Merge& m : merges) {
    const std::string& t = tokens[m.token];
    out.push_back(json::array({t.substr(0, m.l_len), t.substr(m.l_len)}));
  }
  return out;
}

}  // namespace

std::optional<GgufTokenizerJson> gguf_tokenizer_json(const ordered_json& md, const std::string& file) {
  Keys k(md, file);
  if (!k.find("tokenizer.ggml.model")) return std::nullopt;
  const std::string model = k.str("tokenizer.ggml.model", "");
  const ordered_json& tok_arr = k.array("tokenizer.ggml.tokens", 0);
  const size_t n = tok_arr.size();
  if (n == 0) fail("{}: metadata \"tokenizer.ggml.tokens\" is empty", file);
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (const auto& t : tok_arr) {
    if (!t.is_string()) fail("{}: metadata \"tokenizer.ggml.tokens\" must hold strings", file);
    tokens.push_back(t.get<std::string>());
  }
  std::vector<int> types(n, kNormal);
  if (k.find("tokenizer.ggml.token_type")) {
    const ordered_json& a = k.array("tokenizer.ggml.token_type", n);
    for (size_t i = 0; i < n; ++i) {
      if (!a[i].is_number_integer())
        fail("{}: metadata \"tokenizer.ggml.token_type\" must hold integers", file);
      types[i] = a[i].get<int>();
    }
  }

  GgufTokenizerJson out;
  json vocab = json::object();
  for (size_t i = 0; i < n; ++i) vocab[tokens[i]] = i;
  if (vocab.size() != n) fail("{}: metadata \"tokenizer.ggml.tokens\" holds a token twice", file);
  // Control and unknown tokens are special (matched whole, skipped by skip_special_tokens); user-defined ones
  // (R1's <think>, say) are matched whole but are text.
  json added = json::array();
  for (size_t i = 0; i < n; ++i)
    if (types[i] == kControl || types[i] == kUnknown || types[i] == kUserDefined)
      added.push_back({{"id", i},
                       {"content", tokens[i]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", types[i] != kUserDefined}});

  json& t = out.tokenizer;
  t = {{"version", "1.0"}, {"added_tokens", added}, {"normalizer", nullptr}, {"post_processor", nullptr}};
  bool add_bos_default = false;
  if (model == "gpt2") {
    const ordered_json& m = k.array("tokenizer.ggml.merges", 0);
    // A merge whose parts or result the vocabulary lacks can never apply; llama.cpp loads such files (its
    // converters write them for stand-in vocabularies), so they are dropped here rather than refused.
    std::unordered_set<std::string> in_vocab(tokens.begin(), tokens.end());
    json merges = json::array();
    for (const auto& s : m) {
      if (!s.is_string()) fail("{}: metadata \"tokenizer.ggml.merges\" must hold strings", file);
      const std::string& text = s.get_ref<const std::string&>();
      const size_t sp = text.find(' ', 1);
      if (sp == std::string::npos)
        fail("{}: merge \"{}\" in \"tokenizer.ggml.merges\" has no space", file, text);
      const std::string a = text.substr(0, sp), b = text.substr(sp + 1);
      if (in_vocab.count(a) && in_vocab.count(b) && in_vocab.count(a + b)) merges.push_back(text);
    }
    const std::string pre = k.str("tokenizer.ggml.pre", "default");
    if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
      t["pre_tokenizer"] = byte_level(true);
    } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
      t["normalizer"] = {{"type", "NFC"}};
      t["pre_tokenizer"] = split_then_bytes(kQwen2Pattern);
    } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
      t["pre_tokenizer"] = split_then_bytes(kLlama3Pattern);
    } else {
      fail(
          "{}: unsupported metadata \"tokenizer.ggml.pre\" \"{}\" (supported: default, gpt-2, qwen2, "
          "deepseek-r1-qwen, llama-bpe)",
          file, pre);
    }
    t["decoder"] = byte_level(true);
    t["model"] = {{"type", "BPE"},
                  {"unk_token", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3"},
                  {"vocab", vocab},
                  {"merges", merges}};
  } else if (model == "llama") {
    std::vector<float> scores(n, 0.0f);
    if (k.find("tokenizer.ggml.scores")) {
      const ordered_json& a = k.array("tokenizer.ggml.scores", n);
      for (size_t i = 0; i < n; ++i) {
        if (!a[i].is_number()) fail("{}: metadata \"tokenizer.ggml.scores\" must hold numbers", file);
        scores[i] = a[i].get<float>();
      }
    }
    const std::string sp = "\xE2\x96\x81";  // ▁, SentencePiece's space
    t["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", sp}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}}}}};
    t["pre_tokenizer"] = nullptr;
    t["decoder"] = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", sp}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    auto unk = k.id("tokenizer.ggml.unknown_token_id", n);
    t["model"] = {{"type", "BPE"},    {"unk_token", unk ? json(tokens[*unk]) : json(nullptr)},
                  {"fuse_unk", true}, {"byte_fallback", true},
                  {"vocab", vocab},   {"merges", spm_merges(tokens, scores)}};
    add_bos_default = true;
  } else {
    fail("{}: unsupported metadata \"tokenizer.ggml.model\" \"{}\" (supported: gpt2, llama)", file, model);
  }

  // The bos/eos flags, the way transformers' Llama tokenizers apply add_bos_token/add_eos_token.
  json& c = out.config;
  c = {{"tokenizer_class", "LlamaTokenizerFast"},
       {"add_bos_token", k.flag("tokenizer.ggml.add_bos_token").value_or(add_bos_default)},
       {"add_eos_token", k.flag("tokenizer.ggml.add_eos_token").value_or(false)}};
  if (auto bos = k.id("tokenizer.ggml.bos_token_id", n)) c["bos_token"] = tokens[*bos];
  if (auto eos = k.id("tokenizer.ggml.eos_token_id", n)) c["eos_token"] = tokens[*eos];
  if (const ordered_json* tmpl = k.find("tokenizer.chat_template")) {
    if (!tmpl->is_string()) fail("{}: metadata \"tokenizer.chat_template\" must be a string", file);
    out.chat_template = tmpl->get<std::string>();
  }
  return out;
}

}  // namespace r1
