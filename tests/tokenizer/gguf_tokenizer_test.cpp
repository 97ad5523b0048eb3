// Tokenizers built from GGUF metadata give Hugging Face's ids for llama.cpp's 46 hard inputs: the shared
// vocab-only GGUFs (gpt-2, llama-spm) as they are, and the byte-level families whose GGUF is not shipped
// (qwen2, deepseek-r1-qwen, llama-bpe) from GGUF metadata holding their tokenizer.json's vocabulary and
// merges under the tokenizer.ggml.pre name llama.cpp's converter writes — which exercises the pre-tokenizer
// each name selects.
#include "tokenizer/gguf_tokenizer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "model/gguf_file.h"
#include "support/test_support.h"
#include "tokenizer_fixtures.h"

namespace r1::test {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

std::unique_ptr<Tokenizer> from_metadata(const ordered_json& md, const std::string& origin) {
  auto t = gguf_tokenizer_json(md, origin);
  if (!t) throw std::runtime_error(origin + ": no tokenizer");
  return Tokenizer::from_json(t->tokenizer, &t->config, origin);
}

void expect_vectors(const Tokenizer& tok, const std::string& family) {
  auto vectors = read_tokenizer_vectors(family);
  ASSERT_EQ(vectors.size(), 46u);
  for (const auto& v : vectors) {
    EXPECT_EQ(show(tok.encode(v.text, false)), show(v.ids)) << family << " input: \"" << v.text << "\"";
    EXPECT_EQ(tok.decode(v.ids), v.text) << family;
  }
}

class VocabOnlyGguf : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabOnlyGguf, EncodesLikeHuggingFace) {
  R1_REQUIRE_SHARED();
  GgufFile f(shared_path("models/gguf/ggml-vocab-" + GetParam() + ".gguf"));
  expect_vectors(*from_metadata(f.metadata(), f.path()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabOnlyGguf, ::testing::Values("gpt-2", "llama-spm"), ParamName());

// tokenizer.json's vocabulary and merges as llama.cpp's converter stores them (tokens by id, merges "a b",
// added tokens typed control), under the given tokenizer.ggml.pre.
ordered_json metadata_from_tokenizer_json(const std::string& path, const std::string& pre) {
  json j = read_json(path);
  const json& vocab = j["model"]["vocab"];
  size_t n = vocab.size();
  for (const auto& a : j["added_tokens"]) n = std::max<size_t>(n, a["id"].get<size_t>() + 1);
  std::vector<std::string> tokens(n);
  std::vector<int> types(n, 1);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) tokens[it.value().get<size_t>()] = it.key();
  for (const auto& a : j["added_tokens"]) {
    tokens[a["id"].get<size_t>()] = a["content"];
    types[a["id"].get<size_t>()] = a["special"].get<bool>() ? 3 : 4;
  }
  for (size_t i = 0; i < n; ++i)
    if (tokens[i].empty()) tokens[i] = "[PAD" + std::to_string(i) + "]", types[i] = 5;
  ordered_json merges = ordered_json::array();
  for (const auto& m : j["model"]["merges"])
    merges.push_back(m.is_string() ? m.get<std::string>()
                                   : m[0].get<std::string>() + " " + m[1].get<std::string>());
  ordered_json md;
  md["tokenizer.ggml.model"] = "gpt2";
  md["tokenizer.ggml.pre"] = pre;
  md["tokenizer.ggml.tokens"] = tokens;
  md["tokenizer.ggml.token_type"] = types;
  md["tokenizer.ggml.merges"] = merges;
  return md;
}

class ByteLevelPre : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
  }
};

TEST_P(ByteLevelPre, EncodesLikeHuggingFace) {
  const std::string family = GetParam();
  auto md = metadata_from_tokenizer_json(tokenizer_family(family).json, family);
  expect_vectors(*from_metadata(md, family + ".gguf"), family);
}

INSTANTIATE_TEST_SUITE_P(Families, ByteLevelPre, ::testing::Values("qwen2", "deepseek-r1-qwen", "llama-bpe"),
                         ParamName());

TEST(GgufTokenizer, FlagsTemplateAndErrors) {
  ordered_json md;
  EXPECT_FALSE(gguf_tokenizer_json(md, "x.gguf"));  // no tokenizer at all
  md["tokenizer.ggml.model"] = "gpt2";
  md["tokenizer.ggml.pre"] = "qwen2";
  md["tokenizer.ggml.tokens"] = {"a", "b", "ab", "<s>"};
  md["tokenizer.ggml.token_type"] = {1, 1, 1, 3};
  md["tokenizer.ggml.merges"] = {"a b"};
  md["tokenizer.ggml.bos_token_id"] = 3;
  md["tokenizer.ggml.add_bos_token"] = true;
  md["tokenizer.chat_template"] = "{{ messages[0]['content'] }}";
  auto t = gguf_tokenizer_json(md, "x.gguf");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->chat_template, "{{ messages[0]['content'] }}");
  auto tok = Tokenizer::from_json(t->tokenizer, &t->config, "x.gguf");
  EXPECT_EQ(show(tok->encode("ab")), " 3 2");  // BOS added, then the merge
  EXPECT_EQ(show(tok->encode("ab", false)), " 2");
  EXPECT_TRUE(tok->is_special(3));

  auto error = [](ordered_json m) -> std::string {
    try {
      gguf_tokenizer_json(m, "x.gguf");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  ordered_json bad = md;
  bad["tokenizer.ggml.pre"] = "falcon";
  EXPECT_NE(error(bad).find("unsupported metadata \"tokenizer.ggml.pre\" \"falcon\""), std::string::npos);
  bad = md;
  bad["tokenizer.ggml.model"] = "bert";
  EXPECT_NE(error(bad).find("\"tokenizer.ggml.model\" \"bert\""), std::string::npos);
  bad = md;
  bad["tokenizer.ggml.token_type"] = {1, 1};
  EXPECT_NE(error(bad).find("tokenizer.ggml.token_type\" has 2 entries"), std::string::npos);
  bad = md;
  bad["tokenizer.ggml.bos_token_id"] = 9;
  EXPECT_NE(error(bad).find("tokenizer.ggml.bos_token_id"), std::string::npos);
}

}  // namespace
}  // namespace r1::test
