// Hugging Face's ids for llama.cpp's 46 hard inputs per tokenizer family (../shared/tokenizer-vectors), and
// encode∘decode round trips on those inputs and on all of GSM8K and MT-Bench.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "tokenizer_fixtures.h"

namespace r1::test {
namespace {

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

class TokenizerVectors : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
  }
};

TEST_P(TokenizerVectors, EncodeMatchesHuggingFace) {
  const Tokenizer& tok = load_family(GetParam());
  auto vectors = read_tokenizer_vectors(GetParam());
  ASSERT_EQ(vectors.size(), 46u);
  for (const auto& v : vectors)
    EXPECT_EQ(show(tok.encode(v.text, false)), show(v.ids)) << "input: \"" << v.text << "\"";
}

TEST_P(TokenizerVectors, DecodeRoundTripsTheVectors) {
  const Tokenizer& tok = load_family(GetParam());
  for (const auto& v : read_tokenizer_vectors(GetParam())) EXPECT_EQ(tok.decode(v.ids), v.text);
}

TEST_P(TokenizerVectors, RoundTripsGsm8kAndMtBench) {
  const Tokenizer& tok = load_family(GetParam());
  size_t n = 0;
  for (const std::string& text : corpus_texts()) {
    auto ids = tok.encode(text, false);
    EXPECT_EQ(tok.decode(ids), text);
    ++n;
  }
  EXPECT_GT(n, 2 * 1319u);
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerVectors,
                         ::testing::Values("qwen2", "deepseek-r1-qwen", "llama-bpe", "gpt-2", "llama-spm"), ::r1::test::ParamName());

}  // namespace
}  // namespace r1::test
