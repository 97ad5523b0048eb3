#include "server/api/openai/openai_format.h"

#include <gtest/gtest.h>

namespace r1::server {
namespace {

using nlohmann::json;

TEST(OpenAiFormat, ChatResponseShape) {
  ResponseHead h = make_head(Endpoint::chat, "m");
  EXPECT_TRUE(h.id.starts_with("chatcmpl-"));
  json r = full_response(h, json::array({chat_choice(0, "hi", std::string("think"), true, nullptr, "stop")}),
                         usage_json(3, 2));
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["system_fingerprint"], kSystemFingerprint);
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(r["choices"][0]["message"]["reasoning_content"], "think");
  EXPECT_EQ(r["choices"][0]["message"]["reasoning"], "think");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r["usage"]["total_tokens"], 5);
  json plain = chat_choice(0, "hi", std::nullopt, false, nullptr, "length");
  EXPECT_FALSE(plain["message"].contains("reasoning_content"));
}

TEST(OpenAiFormat, ChunksAndUsageChunk) {
  ResponseHead h = make_head(Endpoint::completion, "m");
  json c = completion_chunk(h, 1, "x", nullptr, std::nullopt, true);
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(c.contains("usage") && c["usage"].is_null());
  json u = usage_chunk(h, usage_json(1, 2));
  EXPECT_TRUE(u["choices"].empty());
  EXPECT_EQ(u["usage"]["completion_tokens"], 2);
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
}

TEST(OpenAiFormat, LogprobsBothFormats) {
  std::vector<LogprobEntry> e = {{"He", -0.5f, {{"He", -0.5f}, {"Hi", -1.0f}}}, {"\xe2\x82", -0.1f, {}}};
  json chat = chat_logprobs(e);
  EXPECT_EQ(chat["content"][0]["token"], "He");
  EXPECT_EQ(chat["content"][0]["bytes"], json({72, 101}));
  EXPECT_EQ(chat["content"][0]["top_logprobs"][1]["token"], "Hi");
  EXPECT_EQ(chat["content"][1]["bytes"], json({0xe2, 0x82}));
  // half a UTF-8 character must not throw when serialized
  EXPECT_NO_THROW(sse_event(chat));
  json comp = completion_logprobs(e, 10, true);
  EXPECT_EQ(comp["tokens"][0], "He");
  EXPECT_EQ(comp["text_offset"], json({10, 12}));
  EXPECT_FLOAT_EQ(comp["top_logprobs"][0]["Hi"].get<float>(), -1.0f);
  std::vector<LogprobEntry> echo = {{"A", std::nullopt, {}}};
  json ce = completion_logprobs(echo, 0, true);
  EXPECT_TRUE(ce["token_logprobs"][0].is_null());
  EXPECT_TRUE(ce["top_logprobs"][0].is_null());
}

}  // namespace
}  // namespace r1::server
