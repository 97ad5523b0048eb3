#include "gguf_vocab.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "support/test_support.h"

namespace r1::test {

namespace {

class Reader {
 public:
  explicit Reader(std::string data) : d_(std::move(data)) {}
  template <typename T>
  T get() {
    if (p_ + sizeof(T) > d_.size()) throw std::runtime_error("GGUF: truncated");
    T v;
    std::memcpy(&v, d_.data() + p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string str() {
    auto n = get<uint64_t>();
    if (p_ + n > d_.size()) throw std::runtime_error("GGUF: truncated string");
    std::string s = d_.substr(p_, n);
    p_ += n;
    return s;
  }
  void skip(uint32_t type) {
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
      str();
    } else if (type == 9) {
      auto t = get<uint32_t>();
      auto n = get<uint64_t>();
      for (uint64_t i = 0; i < n; ++i) skip(t);
    } else if (type < 13) {
      p_ += sizes[type];
    } else {
      throw std::runtime_error("GGUF: unknown value type");
    }
  }

 private:
  std::string d_;
  size_t p_ = 0;
};

}  // namespace

GgufVocab read_gguf_vocab(const std::string& path) {
  Reader r(read_file(path));
  if (r.get<uint32_t>() != 0x46554747) throw std::runtime_error(path + ": not GGUF");
  if (r.get<uint32_t>() < 2) throw std::runtime_error(path + ": GGUF v1 not supported");
  r.get<uint64_t>();  // tensor count
  auto n_kv = r.get<uint64_t>();
  GgufVocab v;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.str();
    auto type = r.get<uint32_t>();
    if (type == 9 && (key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.scores" ||
                      key == "tokenizer.ggml.token_type")) {
      auto et = r.get<uint32_t>();
      auto n = r.get<uint64_t>();
      for (uint64_t k = 0; k < n; ++k) {
        if (et == 8)
          v.tokens.push_back(r.str());
        else if (et == 6)
          v.scores.push_back(r.get<float>());
        else if (et == 5)
          v.types.push_back(r.get<int32_t>());
        else
          throw std::runtime_error("GGUF: unexpected array type for " + key);
      }
    } else {
      r.skip(type);
    }
  }
  if (v.tokens.empty() || v.scores.size() != v.tokens.size() || v.types.size() != v.tokens.size())
    throw std::runtime_error(path + ": no complete tokenizer.ggml vocabulary");
  return v;
}

void write_spm_tokenizer_json(const GgufVocab& v, const std::string& dir) {
  using nlohmann::json;
  json vocab = json::object();
  std::unordered_set<std::string> in_vocab(v.tokens.begin(), v.tokens.end());
  for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
  // Every split of a piece into two pieces is a merge, ranked by the merged piece's score (stable: ties keep
  // vocabulary order, then the split position).
  struct Merge {
    std::string l, r;
    float score;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const std::string& t = v.tokens[i];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      if ((uint8_t(t[cut]) & 0xC0) == 0x80) continue;  // split on characters, not bytes
      std::string l = t.substr(0, cut), r = t.substr(cut);
      if (in_vocab.count(l) && in_vocab.count(r)) merges.push_back({l, r, v.scores[i]});
    }
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json merge_list = json::array();
  for (const Merge& m : merges) merge_list.push_back(json::array({m.l, m.r}));

  json added = json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] == 2 || v.types[i] == 3)
      added.push_back({{"id", i},
                       {"content", v.tokens[i]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", true}});
  const std::string sp = "\xE2\x96\x81";
  json j = {{"version", "1.0"},
            {"added_tokens", added},
            {"normalizer",
             {{"type", "Sequence"},
              {"normalizers",
               {{{"type", "Prepend"}, {"prepend", sp}},
                {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}}}}}},
            {"pre_tokenizer", nullptr},
            {"post_processor",
             {{"type", "TemplateProcessing"},
              {"single",
               {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
              {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
            {"decoder",
             {{"type", "Sequence"},
              {"decoders",
               {{{"type", "Replace"}, {"pattern", {{"String", sp}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}},
                {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
            {"model",
             {{"type", "BPE"},
              {"unk_token", "<unk>"},
              {"fuse_unk", true},
              {"byte_fallback", true},
              {"vocab", vocab},
              {"merges", merge_list}}}};
  json cfg = {{"add_bos_token", true}, {"add_eos_token", false}, {"bos_token", "<s>"},
              {"eos_token", "</s>"},   {"unk_token", "<unk>"},   {"tokenizer_class", "LlamaTokenizer"}};
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  std::ofstream(dir + "/tokenizer_config.json") << cfg.dump();
}

}  // namespace r1::test
