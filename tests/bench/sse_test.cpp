// The SSE parser and the OpenAI chunk reader, fed the same stream in every possible two-way split and
// byte by byte: the events must not depend on how the bytes arrived.
#include <gtest/gtest.h>

#include "bench/openai_stream.h"
#include "bench/sse_parser.h"

namespace r1::bench {
namespace {

std::vector<SseEvent> parse_in_pieces(const std::string& bytes, const std::vector<size_t>& cuts) {
  std::vector<SseEvent> got;
  SseParser p([&](const SseEvent& e) { got.push_back(e); });
  size_t prev = 0;
  for (size_t c : cuts) {
    p.feed(std::string_view(bytes).substr(prev, c - prev));
    prev = c;
  }
  p.feed(std::string_view(bytes).substr(prev));
  p.finish();
  return got;
}

const std::string kStream =
    ": keep-alive comment\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: message\n"
    "data: line one\n"
    "data:line two\n\n"
    "id: 7\rdata: é😀\r\r"
    "data: [DONE]\n\n";

void expect_events(const std::vector<SseEvent>& got) {
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].data, "{\"a\":1}");
  EXPECT_EQ(got[1].event, "message");
  EXPECT_EQ(got[1].data, "line one\nline two");
  EXPECT_EQ(got[2].data, "é😀");
  EXPECT_EQ(got[3].data, "[DONE]");
}

TEST(SseParser, WholeStream) {
  expect_events(parse_in_pieces(kStream, {}));
}

TEST(SseParser, EveryTwoWaySplit) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SCOPED_TRACE(cut);
    expect_events(parse_in_pieces(kStream, {cut}));
  }
}

TEST(SseParser, ByteByByte) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kStream.size(); ++i) cuts.push_back(i);
  expect_events(parse_in_pieces(kStream, cuts));
}

TEST(SseParser, LastEventWithoutBlankLineIsKept) {
  auto got = parse_in_pieces("data: x\n\ndata: [DONE]", {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].data, "[DONE]");
}

TEST(SseParser, NonSseBodyGivesNoEvents) {
  auto got = parse_in_pieces("<html><body>502 Bad Gateway</body></html>\n", {});
  EXPECT_TRUE(got.empty());
}

StreamResult read_stream(const std::vector<std::string>& datas) {
  OpenAiStream s;
  double t = 0;
  for (const auto& d : datas) s.on_event(SseEvent{"", d}, t += 10);
  return s.finish();
}

TEST(OpenAiStream, ChatWithReasoningFieldAndUsage) {
  StreamResult r = read_stream({
      R"({"choices":[{"index":0,"delta":{"role":"assistant"}}]})",
      R"({"choices":[{"index":0,"delta":{"reasoning_content":"Think"}}]})",
      R"({"choices":[{"index":0,"delta":{"reasoning":" more"}}]})",
      R"({"choices":[{"index":0,"delta":{"content":"The answer is \\boxed{4}"}}]})",
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})",
      "[DONE]",
  });
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.saw_done);
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.reasoning, "Think more");
  EXPECT_EQ(r.answer, "The answer is \\boxed{4}");
  EXPECT_EQ(r.reasoning_events, 2u);
  EXPECT_EQ(r.answer_events, 1u);
  EXPECT_EQ(r.token_times_ms, (std::vector<double>{20, 30, 40}));  // role-only and usage events carry no text
  EXPECT_EQ(r.prompt_tokens, 12);
  EXPECT_EQ(r.completion_tokens, 3);
}

TEST(OpenAiStream, CompletionTextWithInlineThinkSplit) {
  StreamResult r = read_stream({
      R"({"choices":[{"text":"Let me"}]})",
      R"({"choices":[{"text":" add.</th"}]})",
      R"({"choices":[{"text":"ink>\n\n"}]})",
      R"({"choices":[{"text":"It is 4"}]})",
      R"({"choices":[{"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":4,
          "completion_tokens_details":{"reasoning_tokens":3}}})",
      "[DONE]",
  });
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.reasoning, "Let me add.");
  EXPECT_EQ(r.answer, "\n\nIt is 4");
  EXPECT_EQ(r.reasoning_events, 3u);  // the event that completes "</think>" is reasoning
  EXPECT_EQ(r.answer_events, 1u);
  EXPECT_EQ(r.reasoning_tokens, 3);
  EXPECT_EQ(r.finish_reason, "length");
}

TEST(OpenAiStream, ErrorEventAndNonJson) {
  StreamResult e = read_stream({R"({"error":{"message":"model overloaded","type":"server_error"}})"});
  EXPECT_NE(e.error.find("model overloaded"), std::string::npos);
  StreamResult bad = read_stream({"hello there"});
  EXPECT_NE(bad.error.find("not a JSON object"), std::string::npos);
  StreamResult nochoices = read_stream({R"({"object":"list","data":[]})"});
  EXPECT_NE(nochoices.error.find("choices"), std::string::npos);
}

}  // namespace
}  // namespace r1::bench
