#include "serving/stop_matcher.h"

#include <gtest/gtest.h>

namespace r1::serving {
namespace {

// Feeds pieces; returns released text and whether it stopped.
std::pair<std::string, bool> run(std::vector<std::string> stops, std::vector<std::string> pieces) {
  StopMatcher m(std::move(stops));
  std::string out;
  for (const auto& p : pieces) {
    auto r = m.push(p);
    out += r.text;
    if (r.stopped) return {out, true};
  }
  return {out + m.flush(), false};
}

TEST(StopMatcher, NoStopsPassesThrough) {
  EXPECT_EQ(run({}, {"a", "b"}), std::make_pair(std::string("ab"), false));
}

TEST(StopMatcher, StopInsideOnePieceExcludesTheStopText) {
  EXPECT_EQ(run({"END"}, {"hello END world"}), std::make_pair(std::string("hello "), true));
}

TEST(StopMatcher, StopAcrossPiecesIsHeldBackThenDropped) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("ab<").text, "ab");
  EXPECT_EQ(m.held(), 1u);
  EXPECT_EQ(m.push("/").text, "");
  auto r = m.push("s>tail");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "");
}

TEST(StopMatcher, FalseStartIsReleased) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("ST").text, "");
  EXPECT_EQ(m.push("AY").text, "STAY");
  EXPECT_EQ(m.push("S").text, "");
  EXPECT_EQ(m.flush(), "S");
}

TEST(StopMatcher, EarliestMatchWins) {
  EXPECT_EQ(run({"world", "lo w"}, {"hello world"}), std::make_pair(std::string("hel"), true));
  EXPECT_EQ(run({"bc", "abcd"}, {"xab", "cd"}), std::make_pair(std::string("x"), true));  // abcd starts first
}

TEST(StopMatcher, OverlappingPrefixesHoldTheLongestTail) {
  StopMatcher m({"aab"});
  EXPECT_EQ(m.push("xaa").text, "x");
  EXPECT_EQ(m.push("a").text, "a");  // "aaa": only "aa" can still start "aab"
  EXPECT_TRUE(m.push("b").stopped);
}

TEST(StopMatcher, NothingAfterStop) {
  StopMatcher m({"x"});
  EXPECT_TRUE(m.push("x").stopped);
  EXPECT_TRUE(m.push("more").stopped);
  EXPECT_EQ(m.push("more").text, "");
}

}  // namespace
}  // namespace r1::serving
