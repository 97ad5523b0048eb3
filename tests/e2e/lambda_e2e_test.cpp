// `r1serve lambda`, the AWS Lambda custom runtime, against a Runtime API double on loopback
// (lambda_runtime_double.mjs, with the Runtime Interface Emulator's invoke route in front), invoked with the
// real @aws-sdk/client-lambda (lambda_e2e.mjs beside this file).
#include <gtest/gtest.h>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

void run_lambda_scenario(const std::string& scenario) {
  std::vector<std::string> argv = {
      node_binary(),
      std::string(R1_E2E_DIR) + "/lambda_e2e.mjs",
      scenario,
      R1SERVE_BIN,
      js_dir(),
      shared_path("models/stories260K-hf"),
      shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")};
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(LambdaRuntime, PromptFunctionUrlDeadlineAndMalformedEvents) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  run_lambda_scenario("invocations");
}

TEST(LambdaRuntime, InitFailureIsPostedToInitError) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  run_lambda_scenario("init-error");
}

}  // namespace
}  // namespace r1::test
