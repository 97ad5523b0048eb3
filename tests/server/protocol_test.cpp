// Request parsing: every parameter, defaults from generation_config, and errors that name the field.
#include "server/api/openai/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "server/api_error.h"

namespace r1::server {
namespace {

using nlohmann::json;

json chat(json extra = json::object()) {
  json j = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  j.update(extra);
  return j;
}

// The ApiError a body gives (status, param), or fails the test.
ApiError chat_error(const json& body) {
  try {
    parse_chat_request(body, {});
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << body.dump();
  return ApiError(0, "", "");
}

TEST(Protocol, ChatDefaultsComeFromGenerationConfig) {
  SamplingDefaults d;
  d.temperature = 0.6;
  d.top_p = 0.95;
  ApiRequest r = parse_chat_request(chat(), d);
  EXPECT_DOUBLE_EQ(r.sampling.temperature, 0.6);
  EXPECT_DOUBLE_EQ(r.sampling.top_p, 0.95);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FALSE(r.stream);
  r = parse_chat_request(chat({{"temperature", 0}, {"top_p", nullptr}}), d);
  EXPECT_DOUBLE_EQ(r.sampling.temperature, 0.0);
  EXPECT_DOUBLE_EQ(r.sampling.top_p, 0.95);  // null = not given
}

TEST(Protocol, ChatParsesEveryParameter) {
  ApiRequest r = parse_chat_request(chat({{"max_completion_tokens", 7},
                                          {"max_tokens", 9},
                                          {"top_k", 5},
                                          {"min_p", 0.1},
                                          {"presence_penalty", 0.5},
                                          {"frequency_penalty", -0.5},
                                          {"repetition_penalty", 1.1},
                                          {"seed", 42},
                                          {"stop", {"a", "bb"}},
                                          {"stream", true},
                                          {"stream_options", {{"include_usage", true}}},
                                          {"logprobs", true},
                                          {"top_logprobs", 3},
                                          {"n", 2},
                                          {"user", "u1"}}),
                                    {});
  EXPECT_EQ(*r.max_tokens, 7);  // max_completion_tokens wins
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_DOUBLE_EQ(r.sampling.min_p, 0.1);
  EXPECT_DOUBLE_EQ(r.sampling.presence_penalty, 0.5);
  EXPECT_DOUBLE_EQ(r.sampling.frequency_penalty, -0.5);
  EXPECT_DOUBLE_EQ(r.sampling.repetition_penalty, 1.1);
  EXPECT_EQ(*r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bb"}));
  EXPECT_TRUE(r.stream && r.include_usage && r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.user, "u1");
}

TEST(Protocol, ChatContentPartsAreJoinedAndDeveloperIsSystem) {
  json body = {{"messages",
                {{{"role", "developer"}, {"content", "be brief"}},
                 {{"role", "user"},
                  {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}}}}};
  ApiRequest r = parse_chat_request(body, {});
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[1]["content"], "ab");
  EXPECT_FALSE(r.model);
}

TEST(Protocol, ChatErrorsNameTheField) {
  struct Case {
    json extra;
    std::string param;
  };
  std::vector<Case> cases = {
      {{{"temperature", "hot"}}, "temperature"},
      {{{"temperature", 3}}, "temperature"},
      {{{"top_p", 0}}, "top_p"},
      {{{"top_k", -2}}, "top_k"},
      {{{"min_p", 1.5}}, "min_p"},
      {{{"presence_penalty", 2.5}}, "presence_penalty"},
      {{{"frequency_penalty", "x"}}, "frequency_penalty"},
      {{{"repetition_penalty", 0}}, "repetition_penalty"},
      {{{"seed", 1.5}}, "seed"},
      {{{"max_tokens", 0}}, "max_tokens"},
      {{{"max_tokens", "10"}}, "max_tokens"},
      {{{"max_completion_tokens", -1}}, "max_completion_tokens"},
      {{{"n", 0}}, "n"},
      {{{"n", 1000}}, "n"},
      {{{"stop", 5}}, "stop"},
      {{{"stop", {"a", 1}}}, "stop"},
      {{{"stream", "yes"}}, "stream"},
      {{{"stream_options", {{"include_usage", true}}}}, "stream_options"},
      {{{"logprobs", 1}}, "logprobs"},
      {{{"top_logprobs", 3}}, "top_logprobs"},
      {{{"logprobs", true}, {"top_logprobs", 21}}, "top_logprobs"},
      {{{"user", 5}}, "user"},
      {{{"model", 5}}, "model"},
      {{{"messages", "hi"}}, "messages"},
      {{{"messages", json::array()}}, "messages"},
      {{{"messages", {{{"content", "x"}}}}}, "messages[0].role"},
      {{{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}, "messages[0].role"},
      {{{"messages", {{{"role", "user"}}}}}, "messages[0].content"},
      {{{"messages", {{{"role", "user"}, {"content", 5}}}}}, "messages[0].content"},
      {{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}, "messages[0].content"},
  };
  for (const Case& c : cases) {
    ApiError e = chat_error(chat(c.extra));
    EXPECT_EQ(e.status(), 400) << c.extra.dump();
    EXPECT_EQ(e.param().value_or(""), c.param) << c.extra.dump() << " → " << e.what();
    EXPECT_EQ(e.to_json()["error"]["type"], "invalid_request_error");
  }
}

TEST(Protocol, CompletionPromptForms) {
  auto parse = [](json p) { return parse_completion_request({{"prompt", p}}, {}); };
  EXPECT_EQ(*parse("hi").prompts.at(0).text, "hi");
  EXPECT_EQ(parse(json::array({1, 2, 3})).prompts.at(0).ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(parse(json::array({"a", "b"})).prompts.size(), 2u);
  ApiRequest r = parse(json::array({json::array({1}), json::array({2, 3})}));
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.prompts[1].ids, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(*r.max_tokens, 16);  // OpenAI's completions default
}

TEST(Protocol, CompletionLogprobsEchoAndErrors) {
  ApiRequest r =
      parse_completion_request({{"prompt", "x"}, {"logprobs", 2}, {"echo", true}, {"max_tokens", 0}}, {});
  EXPECT_TRUE(r.logprobs && r.echo);
  EXPECT_EQ(r.top_logprobs, 2);
  auto err = [](json body) -> std::string {
    try {
      parse_completion_request(body, {});
    } catch (const ApiError& e) {
      return e.param().value_or("?");
    }
    return "none";
  };
  EXPECT_EQ(err(json::object()), "prompt");
  EXPECT_EQ(err({{"prompt", 5}}), "prompt");
  EXPECT_EQ(err({{"prompt", json::array()}}), "prompt");
  EXPECT_EQ(err({{"prompt", {1, -1}}}), "prompt");
  EXPECT_EQ(err({{"prompt", {1, "a"}}}), "prompt");
  EXPECT_EQ(err({{"prompt", "x"}, {"logprobs", true}}), "logprobs");
  EXPECT_EQ(err({{"prompt", "x"}, {"logprobs", 50}}), "logprobs");
  EXPECT_EQ(err({{"prompt", "x"}, {"max_tokens", 0}}), "max_tokens");
  EXPECT_EQ(err({{"prompt", "x"}, {"echo", 1}}), "echo");
  EXPECT_EQ(err({{"prompt", "x"}, {"suffix", "s"}}), "suffix");
}

TEST(Protocol, BodyMustBeAJsonObject) {
  for (std::string body : {"", "{", "[1]", "\"x\"", "{\"a\":}"}) {
    try {
      parse_json_body(body);
      ADD_FAILURE() << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400);
    }
  }
  EXPECT_EQ(parse_json_body("{\"a\":1}")["a"], 1);
}

// The 400's param for a body, "none" when it parses.
std::string refused(void (*check)(const json&), const json& body) {
  try {
    check(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.param().value_or("?");
  }
  return "none";
}

TEST(Protocol, LogitBiasIsOpenAisMapOfTokenIdsToBiases) {
  ApiRequest r = parse_completion_request({{"prompt", "x"}, {"logit_bias", {{"5", -100}, {"17", 2.5}}}}, {});
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  std::sort(r.sampling.logit_bias.begin(), r.sampling.logit_bias.end());
  EXPECT_EQ(r.sampling.logit_bias[0], std::make_pair(5, -100.0f));
  EXPECT_EQ(r.sampling.logit_bias[1], std::make_pair(17, 2.5f));
  auto chat = [](const json& bias) {
    parse_chat_request({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"logit_bias", bias}}, {});
  };
  auto err = [&](const json& bias) {
    try {
      chat(bias);
    } catch (const ApiError& e) {
      return e.param().value_or("?");
    }
    return std::string("none");
  };
  EXPECT_EQ(err({{"5", 1}}), "none");
  EXPECT_EQ(err({{"5", 101}}), "logit_bias");
  EXPECT_EQ(err({{"5", -100.5}}), "logit_bias");
  EXPECT_EQ(err({{"x", 1}}), "logit_bias");
  EXPECT_EQ(err({{"-3", 1}}), "logit_bias");
  EXPECT_EQ(err({{"5", "1"}}), "logit_bias");
  EXPECT_EQ(err(json::array({1})), "logit_bias");
}

TEST(Protocol, DeprecatedFunctionFieldsAreRefusedByName) {
  auto check = [](const json& b) { refuse_structured_output(b); };
  EXPECT_EQ(refused(check, {{"response_format", {{"type", "json_object"}}}}), "none");
  EXPECT_EQ(refused(check, {{"tools", json::array({{{"type", "function"}}})}}), "none");
  EXPECT_EQ(refused(check, {{"function_call", "auto"}}), "function_call");
  EXPECT_EQ(refused(check, {{"functions", json::array()}}), "functions");
}

TEST(Protocol, UnknownFieldsAreRefusedByName) {
  auto check = [](const json& b) { refuse_unknown_fields(b, {"model", "prompt"}); };
  EXPECT_EQ(refused(check, {{"model", "m"}, {"prompt", "x"}}), "none");
  EXPECT_EQ(refused(check, {{"prompt", "x"}, {"best_of", 2}}), "best_of");
  EXPECT_EQ(refused(check, {{"prompt", "x"}, {"best_of", nullptr}}), "none");  // null is "not given"
}

}  // namespace
}  // namespace r1::server
