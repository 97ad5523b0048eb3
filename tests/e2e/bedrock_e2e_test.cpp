// The Bedrock Runtime routes driven by the real AWS SDK for JavaScript (bedrock_e2e.mjs beside this file):
// endpoint at r1serve on loopback, static dummy credentials; once over HTTP/1.1 (NodeHttpHandler) and once
// with the SDK's default handler, which speaks HTTP/2 with prior knowledge (h2c) even to http:// endpoints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

// Runs one scenario of bedrock_e2e.mjs; `options` (JSON) sets the client's credentials or token.
void run_bedrock(const ServerProcess& s, const std::string& scenario, const std::string& handler,
                 const nlohmann::json& options = nlohmann::json::object()) {
  std::vector<std::string> argv = {
      node_binary(), std::string(R1_E2E_DIR) + "/bedrock_e2e.mjs", scenario, s.base_url(), js_dir(), handler,
      options.dump()};
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
}

std::vector<std::string> bedrock_server_args() {
  return stories_server_args();
}
class BedrockSdk : public SharedServerTest<bedrock_server_args> {};

TEST_F(BedrockSdk, InvokeModelThreeBodyFormatsHttp1) {
  run_bedrock(*server_, "invoke", "http1");
}
TEST_F(BedrockSdk, InvokeModelWithResponseStreamHttp1) {
  run_bedrock(*server_, "stream", "http1");
}
TEST_F(BedrockSdk, ConverseAndConverseStreamWithReasoningHttp1) {
  run_bedrock(*server_, "converse", "http1");
}
TEST_F(BedrockSdk, ErrorsAreTypedSdkExceptionsHttp1) {
  run_bedrock(*server_, "errors", "http1");
}
TEST_F(BedrockSdk, InvokeModelThreeBodyFormatsH2c) {
  run_bedrock(*server_, "invoke", "default");
}
TEST_F(BedrockSdk, InvokeModelWithResponseStreamH2c) {
  run_bedrock(*server_, "stream", "default");
}
TEST_F(BedrockSdk, ConverseAndConverseStreamWithReasoningH2c) {
  run_bedrock(*server_, "converse", "default");
}
TEST_F(BedrockSdk, ErrorsAreTypedSdkExceptionsH2c) {
  run_bedrock(*server_, "errors", "default");
}

TEST(BedrockAuth, BearerApiKey) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--api-key", "br-key"}));
  ASSERT_TRUE(s.healthy());
  run_bedrock(s, "allowed", "http1", {{"token", "br-key"}});
  run_bedrock(s, "allowed", "default", {{"token", "br-key"}});
  run_bedrock(s, "denied", "http1", {{"token", "wrong-key"}});
  // SigV4 with no --aws-access-key-id to match: refused (the API key is not bypassed by signing).
  run_bedrock(s, "denied", "http1");
}

TEST(BedrockAuth, SigV4KeyIdAndSignature) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(
      stories_server_args({"--aws-access-key-id", "AKIDR1SERVE", "--aws-secret-access-key", "s3cr3t/key+x"}));
  ASSERT_TRUE(s.healthy());
  // Over both transports: over HTTP/2 the signed Host header is the :authority pseudo-header.
  for (const char* handler : {"http1", "default"}) {
    SCOPED_TRACE(handler);
    run_bedrock(s, "allowed", handler, {{"accessKeyId", "AKIDR1SERVE"}, {"secretAccessKey", "s3cr3t/key+x"}});
    run_bedrock(s, "denied", handler, {{"accessKeyId", "AKIDR1SERVE"}, {"secretAccessKey", "wrong"}});
    run_bedrock(s, "denied", handler, {{"accessKeyId", "AKIDOTHER"}, {"secretAccessKey", "s3cr3t/key+x"}});
  }
}

TEST(BedrockAuth, SigV4KeyIdOnly) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--aws-access-key-id", "AKIDR1SERVE"}));
  ASSERT_TRUE(s.healthy());
  run_bedrock(s, "allowed", "http1", {{"accessKeyId", "AKIDR1SERVE"}, {"secretAccessKey", "anything"}});
  run_bedrock(s, "denied", "http1", {{"accessKeyId", "AKIDOTHER"}});
}

// A signature more than 15 minutes from the server's clock: 403 InvalidSignatureException as AWS answers, and
// the SDK's own clock correction (from the Date header) then gets it through.
TEST(BedrockAuth, SigV4ClockSkewIsInvalidSignatureException) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(
      stories_server_args({"--aws-access-key-id", "AKIDR1SERVE", "--aws-secret-access-key", "s3cr3t/key+x"}));
  ASSERT_TRUE(s.healthy());
  for (const char* handler : {"http1", "default"})
    run_bedrock(s, "skew", handler, {{"accessKeyId", "AKIDR1SERVE"}, {"secretAccessKey", "s3cr3t/key+x"}});
}

TEST(BedrockLimits, OverTheConcurrencyLimitIsThrottlingException) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--max-concurrent-requests", "1"}));
  ASSERT_TRUE(s.healthy());
  run_bedrock(s, "throttled", "http1");
  run_bedrock(s, "throttled", "default");
}

}  // namespace
}  // namespace r1::test
