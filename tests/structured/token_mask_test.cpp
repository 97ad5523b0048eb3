// Token-level masks: tokens that span grammar symbols (closing a string and opening the next key), partial
// UTF-8 tokens, EOS only where the grammar may end, added tokens never allowed, and — the core property —
// every mask equal to checking each token's bytes one by one against the grammar, on walks through real
// grammars with a hand-made vocabulary and with the real Qwen2 / R1-Distill vocabulary.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "structured/gbnf.h"
#include "structured/json_schema.h"
#include "structured/regex.h"
#include "structured_fixtures.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace r1::structured {
namespace {

using json = nlohmann::ordered_json;
using test::mask_has;

const std::vector<std::string> kExtra = {
    "\"a",  "\",", "\", \"", "\":", "{\"", "\"}", "\xe4\xb8", "\xad\"",   "\xad", "ab",   "12",  "2,",
    "true", " \"", "\"b\":", "é",   "\"b", "}",   "1}",       ", \"b\":", "中",   "\"\"", "\\n", "\\u00e9"};

std::shared_ptr<const Vocabulary> vocab() {
  static auto v = test::small_vocab(kExtra);
  return v;
}
int32_t id_of(const std::string& bytes) {
  for (size_t i = 0; i < vocab()->size(); ++i)
    if (vocab()->bytes(int32_t(i)) == bytes) return int32_t(i);
  ADD_FAILURE() << "no token " << bytes;
  return -1;
}
bool allows(const std::vector<int32_t>& ids, const std::string& tok) {
  return std::find(ids.begin(), ids.end(), id_of(tok)) != ids.end();
}

std::shared_ptr<const CompiledGrammar> schema(const char* s, std::shared_ptr<const Vocabulary> v = vocab()) {
  return test::compile(json_schema_grammar(json::parse(s)), std::move(v));
}

const char* kTwoKeys =
    R"({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                           "required": ["a", "b"]})";

TEST(TokenMask, TokenClosesStringAndOpensNextKey) {
  auto g = schema(kTwoKeys);
  const auto ids = test::allowed_after(g, "{\"a\": \"x");
  EXPECT_TRUE(allows(ids, "\", \""));  // closes "a"'s value, comma, space, opens key "b"
  EXPECT_TRUE(allows(ids, "\","));
  EXPECT_TRUE(allows(ids, "ab"));
  EXPECT_FALSE(allows(ids, "\"}"));  // b is required
  EXPECT_FALSE(allows(ids, "\"a"));  // after the string only , or whitespace
  EXPECT_TRUE(allows(test::allowed_after(g, "{\"a\": \"x\""), ", \"b\":"));
  EXPECT_FALSE(allows(test::allowed_after(g, "{\"a\": \"x\""), "\"b\":"));
  EXPECT_TRUE(allows(test::allowed_after(g, "{\"a\": \"x\", "), "\"b\":"));
  EXPECT_FALSE(allows(test::allowed_after(g, "{\"a\": \"x\", "), "\"a"));
}

TEST(TokenMask, PartialUtf8) {
  auto g = schema(kTwoKeys);
  EXPECT_TRUE(allows(test::allowed_after(g, "{\"a\": \""), "\xe4\xb8"));
  const auto mid = test::allowed_after(g, "{\"a\": \"\xe4\xb8");
  EXPECT_TRUE(allows(mid, "\xad"));
  EXPECT_TRUE(allows(mid, "\xad\""));
  EXPECT_FALSE(allows(mid, "\""));
  EXPECT_FALSE(allows(mid, "a"));
  EXPECT_FALSE(allows(mid, "中"));
  // A pattern of ASCII letters never admits the first half of a CJK character.
  auto ascii = schema(R"({"type": "string", "pattern": "^[a-z]*$"})");
  EXPECT_FALSE(allows(test::allowed_after(ascii, "\""), "\xe4\xb8"));
  EXPECT_TRUE(allows(test::allowed_after(ascii, "\""), "ab"));
  // A regex over code points matches a character split across tokens.
  auto re = test::compile(regex_grammar("[一-龥]{2}"), vocab());
  EXPECT_TRUE(allows(test::allowed_after(re, ""), "\xe4\xb8"));
  EXPECT_TRUE(allows(test::allowed_after(re, "\xe4\xb8"), "\xad"));
  EXPECT_TRUE(test::matches(re, "中中"));
}

TEST(TokenMask, EosOnlyWhereTheGrammarMayEnd) {
  const int32_t eos = test::small_eos(*vocab());
  auto num = schema(R"({"type": "integer"})");
  auto has_eos = [&](const std::shared_ptr<const CompiledGrammar>& g, const std::string& prefix) {
    const auto ids = test::allowed_after(g, prefix);
    return std::find(ids.begin(), ids.end(), eos) != ids.end();
  };
  EXPECT_FALSE(has_eos(num, ""));
  EXPECT_FALSE(has_eos(num, "-"));
  EXPECT_TRUE(has_eos(num, "12"));
  EXPECT_TRUE(allows(test::allowed_after(num, "12"), "12"));  // or more digits
  auto obj = schema(kTwoKeys);
  EXPECT_FALSE(has_eos(obj, "{\"a\": \"x\", \"b\": 1"));
  const auto done = test::allowed_after(obj, "{\"a\": \"x\", \"b\": 1}");
  EXPECT_EQ(done, std::vector<int32_t>{eos});
  GrammarMatcher m(obj);
  ASSERT_TRUE(m.accept_text("{\"a\":\"\",\"b\":1}"));
  EXPECT_TRUE(m.must_end());
  EXPECT_FALSE(m.accept(id_of("}")));
  EXPECT_TRUE(m.accept(eos));
  EXPECT_TRUE(m.finished());
  std::vector<uint32_t> mask(vocab()->mask_words(), ~0u);
  m.fill_mask(mask);
  EXPECT_TRUE(std::all_of(mask.begin(), mask.end(), [](uint32_t w) { return w == 0; }));
}

TEST(TokenMask, RejectedTokenLeavesStateUnchanged) {
  GrammarMatcher m(schema(kTwoKeys));
  ASSERT_TRUE(m.accept(id_of("{\"")));
  EXPECT_FALSE(m.accept(id_of("\"b")));
  EXPECT_TRUE(m.accept(id_of("a")));
  EXPECT_TRUE(m.accept(id_of("\":")));
}

// Every mask bit equals "the token's bytes are accepted from here" (and EOS equals "may end here"), along
// random walks that pick allowed tokens.
void check_masks_by_brute_force(const std::shared_ptr<const CompiledGrammar>& g, int walks, int steps,
                                uint32_t seed) {
  const Vocabulary& v = g->vocab();
  std::mt19937 rng(seed);
  std::vector<uint32_t> mask(v.mask_words());
  for (int w = 0; w < walks; ++w) {
    GrammarMatcher m(g);
    for (int s = 0; s < steps && !m.finished(); ++s) {
      m.fill_mask(mask);
      std::vector<int32_t> allowed;
      for (size_t i = 0; i < v.size(); ++i) {
        const int32_t id = int32_t(i);
        const bool is_eos = std::find(v.eos_ids().begin(), v.eos_ids().end(), id) != v.eos_ids().end();
        const bool expect = is_eos ? m.can_end() : !v.bytes(id).empty() && m.can_accept_text(v.bytes(id));
        ASSERT_EQ(mask_has(mask, id), expect)
            << "token " << id << " '" << v.bytes(id) << "' at walk " << w << " step " << s;
        if (expect) allowed.push_back(id);
      }
      ASSERT_FALSE(allowed.empty()) << "nothing allowed at walk " << w << " step " << s;
      ASSERT_TRUE(m.accept(allowed[rng() % allowed.size()]));
    }
  }
}

TEST(TokenMask, MasksMatchBruteForceSmallVocab) {
  check_masks_by_brute_force(schema(kTwoKeys), 20, 30, 1);
  check_masks_by_brute_force(
      schema(R"({"type": "object", "properties": {"b": {"type": "array", "items": {"enum": ["ab", 12, true]}},
                                      "c": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}},
                                      "additionalProperties": {"type": "integer"}})"),
      20, 40, 2);
  check_masks_by_brute_force(
      test::compile(parse_gbnf("root ::= (\"ab\" | x)+ \"}\"\nx ::= [0-9] \"\\\"\"? | \"中\"\n"), vocab()),
      20, 20, 3);
}

TEST(TokenMask, MasksMatchBruteForceQwenVocab) {
  auto v = test::qwen_vocab();
  if (!v) GTEST_SKIP() << "tests/js/node_modules missing: run npm ci --prefix tests/js";
  check_masks_by_brute_force(
      schema(
          R"({"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer", "minimum": -5, "maximum": 120},
                 "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}, "required": ["name"],
                 "additionalProperties": {"type": "boolean"}})",
          v),
      2, 12, 4);
}

TEST(TokenMask, MasksMatchBruteForceSentencePieceVocab) {
  // stories260K: SentencePiece-style BPE with byte fallback ("▁" for spaces, <0x0A> byte tokens).
  R1_REQUIRE_SHARED();
  auto tok = Tokenizer::from_dir(test::shared_path("models/stories260K-hf"));
  ASSERT_TRUE(tok);
  auto v = Vocabulary::from_tokenizer(*tok, {*tok->eos_id()});
  check_masks_by_brute_force(
      test::compile(regex_grammar("(Once|Lily) upon a [a-z]+\\.( [A-Z][a-z]*)*\\n"), v), 5, 12, 5);
  check_masks_by_brute_force(
      schema(
          R"({"type": "object", "properties": {"who": {"enum": ["Tim", "Sue"]}, "age": {"type": "integer"}}})",
          v),
      5, 12, 6);
}

TEST(TokenMask, AddedTokensNeverAllowed) {
  auto v = test::qwen_vocab();
  if (!v) GTEST_SKIP() << "tests/js/node_modules missing: run npm ci --prefix tests/js";
  auto g = schema(R"({"type": "string"})", v);
  const auto ids = test::allowed_after(g, "\"");
  EXPECT_GT(ids.size(), 140000u);
  for (int32_t id : ids) EXPECT_LT(id, 151643) << "added or padding token " << id << " allowed";
}

}  // namespace
}  // namespace r1::structured
