// The second oracle: @lenml/tokenizers (JavaScript port of Hugging Face's tokenizers) on larger real text —
// every GSM8K question and answer and every MT-Bench turn, with add_special_tokens — must give the same ids.
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"
#include "tokenizer_fixtures.h"

namespace r1::test {
namespace {

class TokenizerOracle : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
    if (run_command({"/usr/bin/env", "node", "--version"}).exit_code != 0)
      GTEST_SKIP() << "node is not installed";
  }
};

TEST_P(TokenizerOracle, SameIdsAsLenmlTokenizersOnGsm8kAndMtBench) {
  const TokenizerFamily& f = tokenizer_family(GetParam());
  const Tokenizer& tok = load_family(GetParam());
  std::vector<std::string> texts = corpus_texts();
  TempDir tmp;
  std::ofstream(tmp.file("texts.json")) << nlohmann::json(texts).dump();
  auto r = run_command({"/usr/bin/env", "node", std::string(R1_SOURCE_DIR) + "/tests/tokenizer/hf_oracle.mjs",
                        f.json, f.config, tmp.file("texts.json"), tmp.file("ids.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json want = read_json(tmp.file("ids.json"));
  ASSERT_EQ(want.size(), texts.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto got = tok.encode(texts[i], true);
    auto expect = want[i].get<std::vector<int32_t>>();
    if (got != expect && ++mismatches <= 5) ADD_FAILURE() << "text " << i << ": \"" << texts[i] << "\"";
  }
  EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerOracle,
                         ::testing::Values("qwen2", "deepseek-r1-qwen", "llama-bpe", "gpt-2", "mistral-spm"), ::r1::test::ParamName());

}  // namespace
}  // namespace r1::test
