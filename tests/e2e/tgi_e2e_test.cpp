// TGI's own API (POST /generate, /generate_stream, /, GET /info) on the real r1serve binary, driven by the
// real Hugging Face client (@huggingface/inference with an endpointUrl calls TGI's POST /) and by raw HTTP
// (tgi_e2e.mjs beside this file).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

void run_tgi(const ServerProcess& s, const std::string& scenario,
             const nlohmann::json& options = nlohmann::json::object()) {
  CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/tgi_e2e.mjs", scenario,
                                 s.base_url(), js_dir(), options.dump()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
}

std::vector<std::string> tgi_server_args() {
  return stories_server_args({}, /*r1_template=*/false);
}
class Tgi : public SharedServerTest<tgi_server_args> {};

TEST_F(Tgi, HuggingFaceClientTextGenerationAndStream) {
  run_tgi(*server_, "client");
}
TEST_F(Tgi, GenerateDetailsSeedsStopTruncateTopTokensGrammar) {
  run_tgi(*server_, "generate");
}
TEST_F(Tgi, GenerateStreamEventsAndErrorsInTheStream) {
  run_tgi(*server_, "stream");
}
TEST_F(Tgi, InfoAndValidationErrors) {
  run_tgi(*server_, "info");
}

TEST(TgiLimits, OverTheConcurrencyLimitIsOverloaded) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--max-concurrent-requests", "1"}, /*r1_template=*/false));
  ASSERT_TRUE(s.healthy());
  run_tgi(s, "overloaded");
}

TEST(TgiAuth, ApiKeyIsABearerToken) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--api-key", "tgi-secret", "--max-concurrent-requests", "7"},
                                      /*r1_template=*/false));
  ASSERT_TRUE(s.healthy());
  run_tgi(s, "auth", {{"apiKey", "tgi-secret"}});
  run_tgi(s, "info", {{"apiKey", "tgi-secret"}, {"maxConcurrent", 7}});
}

// A model loaded on demand (--model NAME=SOURCE) with --load-wait 0: the first request starts the load and
// gets 503 unavailable (Hugging Face's clients retry on 503), a later one the answer.
TEST(TgiServerless, ModelNotReadyIs503ThenServed) {
  R1_REQUIRE_SHARED();
  // Two models, so that none is preloaded; TGI's routes serve the first (the default).
  ServerProcess s({"--model", "stories=" + shared_path("models/stories260K-hf"), "--model",
                   "other=" + shared_path("models/stories260K-hf"), "--load-wait", "0", "--kv-cache-memory",
                   "64MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  const std::string body = R"({"inputs": "Once upon a time", "parameters": {"max_new_tokens": 3}})";
  HttpResult first = http_request(s.port(), "POST", "/generate", body);
  ASSERT_EQ(first.status, 503) << first.body;
  nlohmann::json e = nlohmann::json::parse(first.body);
  EXPECT_EQ(e["error_type"], "unavailable") << first.body;
  EXPECT_TRUE(e["error"].is_string());
  HttpResult served;
  for (int i = 0; i < 600 && served.status != 200; ++i) {
    served = http_request(s.port(), "POST", "/generate", body);
    if (served.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(served.status, 200) << served.body << s.log();
  EXPECT_TRUE(nlohmann::json::parse(served.body)["generated_text"].is_string());
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace r1::test
