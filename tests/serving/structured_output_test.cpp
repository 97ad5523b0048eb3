// serving::StructuredOutputs with stories260K's real tokenizer: </think> as its byte-level pieces, formats
// compiled once (the cache), errors naming the request field, and which budget a generation gets.
#include "serving/structured_output.h"

#include <gtest/gtest.h>

#include "serving/serving_error.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace r1::serving {
namespace {

using structured::GrammarKind;

TEST(StructuredOutputs, BudgetsCompileCacheAndErrors) {
  R1_REQUIRE_SHARED();
  auto tok = Tokenizer::from_dir(test::shared_path("models/stories260K-hf"));
  ASSERT_TRUE(tok);
  StructuredOutputs so(*tok, {2}, 512);
  // No </think> token in this vocabulary: its text, several pieces.
  EXPECT_GT(so.think_end_ids().size(), 1u);
  EXPECT_EQ(tok->decode(so.think_end_ids(), true).find("</think>") != std::string::npos, true);

  const OutputFormat f{GrammarKind::json_schema, R"({"type": "integer"})",
                       "response_format.json_schema.schema"};
  auto g = so.compile(f);
  EXPECT_EQ(so.compile(f), g);  // cached

  // Nothing asked: no constraint. A format outside reasoning: the grammar from the first token.
  EXPECT_FALSE(so.constraint(nullptr, true, std::nullopt, 100));
  auto plain = so.constraint(g, false, std::nullopt, 100);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->reasoning.starts_in_reasoning);
  // Inside reasoning: the request's budget, else half of max_tokens for a constrained answer.
  auto halved = so.constraint(g, true, std::nullopt, 100);
  ASSERT_TRUE(halved);
  EXPECT_TRUE(halved->reasoning.starts_in_reasoning);
  EXPECT_EQ(halved->reasoning.max_reasoning_tokens, 50);
  EXPECT_EQ(so.constraint(g, true, 7, 100)->reasoning.max_reasoning_tokens, 7);
  // A budget alone bounds free output.
  auto budget = so.constraint(nullptr, true, 0, 100);
  ASSERT_TRUE(budget);
  EXPECT_FALSE(budget->grammar);
  EXPECT_EQ(budget->reasoning.max_reasoning_tokens, 0);
  EXPECT_TRUE(budget->make());

  try {
    so.compile({GrammarKind::regex, "(?=x)", "guided_regex"});
    FAIL() << "lookahead accepted";
  } catch (const ServingError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
    EXPECT_EQ(e.param(), "guided_regex");
  }
}

}  // namespace
}  // namespace r1::serving
