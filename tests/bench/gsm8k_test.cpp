#include "bench/gsm8k.h"

#include <gtest/gtest.h>

namespace r1::bench {
namespace {

TEST(Gsm8k, ReferenceAnswerAfterHashes) {
  EXPECT_EQ(gsm8k_reference_answer("16 - 3 - 4 = 9\n9 * 2 = 18\n#### 18"), "18");
  EXPECT_EQ(gsm8k_reference_answer("so... #### 1,234"), "1234");
  EXPECT_EQ(gsm8k_reference_answer("#### -5"), "-5");
  EXPECT_FALSE(gsm8k_reference_answer("no final answer 12").has_value());
}

TEST(Gsm8k, BoxedWinsOverLaterNumbers) {
  EXPECT_EQ(extract_final_number("The answer is \\boxed{18}. Check: 9 * 2 = 18, not 20."), "18");
  EXPECT_EQ(extract_final_number("\\boxed{\\$1,080} dollars"), "1080");
  EXPECT_EQ(extract_final_number("first \\boxed{3} then \\boxed{\\frac{1}{2}}"),
            "2");  // last number in last box
}

TEST(Gsm8k, LastNumberWithoutBox) {
  EXPECT_EQ(extract_final_number("She makes 9 * 2 = $18 every day."), "18");
  EXPECT_EQ(extract_final_number("It costs 1,250,000 dollars"), "1250000");
  EXPECT_EQ(extract_final_number("ratio 3,4"), "4");  // not a thousands separator
  EXPECT_EQ(extract_final_number("total: 2.50."), "2.50");
  EXPECT_EQ(extract_final_number("a loss of -7"), "-7");
  EXPECT_FALSE(extract_final_number("no digits here").has_value());
  EXPECT_FALSE(extract_final_number("").has_value());
}

TEST(Gsm8k, UnterminatedBoxFallsBackToLastNumber) {
  EXPECT_EQ(extract_final_number("so 12 and \\boxed{3"), "3");
}

TEST(Gsm8k, NumericComparison) {
  EXPECT_TRUE(same_number("18", "18.00"));
  EXPECT_TRUE(same_number("1234", "1234"));
  EXPECT_FALSE(same_number("18", "19"));
  EXPECT_FALSE(same_number("-5", "5"));
}

}  // namespace
}  // namespace r1::bench
