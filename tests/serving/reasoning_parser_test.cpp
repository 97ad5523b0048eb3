#include "serving/reasoning_parser.h"

#include <gtest/gtest.h>

namespace r1::serving {
namespace {

struct Split {
  std::string reasoning, content;
  bool operator==(const Split&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Split& s) {
  return os << "{reasoning=\"" << s.reasoning << "\", content=\"" << s.content << "\"}";
}

Split feed(const std::vector<std::string>& pieces, bool in_reasoning = true) {
  ReasoningParser p(in_reasoning);
  Split s;
  for (const auto& x : pieces) {
    auto d = p.push(x);
    s.reasoning += d.reasoning;
    s.content += d.content;
  }
  auto d = p.flush();
  s.reasoning += d.reasoning;
  s.content += d.content;
  return s;
}

// Every way of cutting `text` into two or three pieces gives the same split as one piece.
void expect_streaming_agrees(const std::string& text, const Split& want) {
  EXPECT_EQ(feed({text}), want) << text;
  for (size_t i = 0; i <= text.size(); ++i) {
    EXPECT_EQ(feed({text.substr(0, i), text.substr(i)}), want) << "cut at " << i;
    for (size_t j = i; j <= text.size(); j += 3)
      EXPECT_EQ(feed({text.substr(0, i), text.substr(i, j - i), text.substr(j)}), want) << i << "," << j;
  }
  std::vector<std::string> chars;
  for (char c : text) chars.push_back(std::string(1, c));
  EXPECT_EQ(feed(chars), want) << "char by char";
}

TEST(ReasoningParser, SplitsAtEndTagAndStripsSeamNewlines) {
  expect_streaming_agrees("Let me think.\nOK.\n</think>\n\nThe answer is 4.",
                          {"Let me think.\nOK.", "The answer is 4."});
}

TEST(ReasoningParser, CutBeforeEndTagIsAllReasoning) {
  expect_streaming_agrees("Still thinking\n\nabout it\n", {"Still thinking\n\nabout it", ""});
  expect_streaming_agrees("thinking </thi", {"thinking </thi", ""});
}

TEST(ReasoningParser, RepeatedThinkTagAtStartIsDropped) {
  expect_streaming_agrees("<think>\nhmm</think>yes", {"hmm", "yes"});
  expect_streaming_agrees("\n<think>hmm</think>\nyes\n", {"hmm", "yes\n"});
}

TEST(ReasoningParser, EmptyReasoning) {
  expect_streaming_agrees("\n</think>\n\nhello", {"", "hello"});
}

TEST(ReasoningParser, LaterTagsStayInContent) {
  expect_streaming_agrees("a</think>b</think>c<think>d", {"a", "b</think>c<think>d"});
}

TEST(ReasoningParser, NotInReasoningIsAllContent) {
  EXPECT_EQ(feed({"hello ", "</think> world"}, false), (Split{"", "hello </think> world"}));
}

TEST(ReasoningParser, TextStartingLikeThinkTagIsReleased) {
  expect_streaming_agrees("<thing>x</think>y", {"<thing>x", "y"});
}

}  // namespace
}  // namespace r1::serving
