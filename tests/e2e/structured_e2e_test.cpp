// Structured output and tool calls end to end (issue 13): the real r1serve on loopback with stories260K, the
// R1 template and a reasoning budget, driven by the real clients (structured_e2e.mjs beside this file) and by
// raw HTTP for the errors and the server's default budget.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;

void run_js(const ServerProcess& s, const std::string& scenario, const char* script = "structured_e2e.mjs") {
  CommandResult r =
      run_command({node_binary(), std::string(R1_E2E_DIR) + "/" + script, scenario, s.base_url(), js_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
}

TEST(StructuredE2E, OpenAiVllmAiSdkAndLangChainClientsGetValidJson) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--max-reasoning-tokens", "8"}));
  ASSERT_TRUE(s.healthy());
  run_js(s, "openai");
  run_js(s, "vllm");
  run_js(s, "aisdk");
  run_js(s, "langchain");
  EXPECT_EQ(s.terminate(), 0);
}

// With no budget anywhere a constrained answer still comes: the thinking gets half of max_tokens. The
// server's default budget also bounds free (unconstrained) answers.
TEST(StructuredE2E, DefaultBudgetsLetTheAnswerStart) {
  R1_REQUIRE_SHARED();
  {
    ServerProcess s(stories_server_args());
    ASSERT_TRUE(s.healthy());
    HttpResult r = http_request(s.port(), "POST", "/v1/chat/completions",
                                R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100,
                                    "temperature": 0, "guided_choice": ["yes", "no"]})");
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop") << r.body;
    const std::string content = j["choices"][0]["message"]["content"];
    EXPECT_TRUE(content == "yes" || content == "no") << r.body;
    EXPECT_GE(j["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), 50) << r.body;
    EXPECT_EQ(s.terminate(), 0);
  }
  {
    ServerProcess s(stories_server_args({"--max-reasoning-tokens", "5"}));
    ASSERT_TRUE(s.healthy());
    HttpResult r = http_request(s.port(), "POST", "/v1/chat/completions",
                                R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 40,
                                    "temperature": 0})");
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    // 5 thinking tokens, then the forced </think> (several tokens in stories260K's vocabulary): the rest is
    // the answer.
    EXPECT_FALSE(j["choices"][0]["message"]["content"].is_null()) << r.body;
    EXPECT_LT(j["usage"]["completion_tokens_details"]["reasoning_tokens"].get<int>(), 20) << r.body;
    EXPECT_EQ(s.terminate(), 0);
  }
}

TEST(StructuredE2E, UnsupportedSchemasAreA400NamingTheFieldAndKeyword) {
  R1_REQUIRE_SHARED();
  ServerProcess s(stories_server_args());
  ASSERT_TRUE(s.healthy());
  HttpResult r = http_request(s.port(), "POST", "/v1/chat/completions",
                              R"({"messages": [{"role": "user", "content": "Hi"}], "guided_json":
                                  {"type": "object", "dependentSchemas": {"a": {}}}})");
  EXPECT_EQ(r.status, 400) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["error"]["param"], "guided_json") << r.body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("dependentSchemas"), std::string::npos) << r.body;
  r = http_request(s.port(), "POST", "/v1/completions",
                   R"({"prompt": "x", "response_format": {"type": "json_object"}, "guided_regex": "a+"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["param"], "guided_regex") << r.body;
  EXPECT_EQ(s.terminate(), 0);
}

// Tool calls need room for the tool list in the prompt: a random-weight model with 4096 positions and
// stories260K's tokenizer, served as "tiny". With R1's template the tools go into the system prompt in R1's
// format; with Qwen2.5's, which renders `tools` itself, its Hermes <tool_call> format is used.
std::vector<std::string> tiny_args(const char* chat_template) {
  return {"--model",
          shared_path("models/tiny-llama-tied"),
          "--tokenizer",
          shared_path("models/stories260K-hf"),
          "--served-model-name",
          "tiny",
          "--chat-template",
          shared_path(std::string("chat-templates/") + chat_template),
          "--kv-cache-memory",
          "64MiB",
          "--max-model-len",
          "2048",
          "--threads",
          "1",
          "--max-reasoning-tokens",
          "4"};
}

TEST(ToolsE2E, OpenAiResponsesAiSdkAndLangChainGetWellFormedCalls) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  for (const char* t : {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja"}) {
    SCOPED_TRACE(t);
    ServerProcess s(tiny_args(t));
    ASSERT_TRUE(s.healthy());
    run_js(s, "openai", "tools_e2e.mjs");
    run_js(s, "responses", "tools_e2e.mjs");
    run_js(s, "aisdk", "tools_e2e.mjs");
    run_js(s, "langchain", "tools_e2e.mjs");
    EXPECT_EQ(s.terminate(), 0);
  }
}

}  // namespace
}  // namespace r1::test
