// `r1serve lambda`, the AWS Lambda custom runtime, against a Runtime API double on loopback
// (lambda_runtime_double.mjs, with the Runtime Interface Emulator's invoke route in front), invoked with the
// real @aws-sdk/client-lambda (lambda_e2e.mjs beside this file).
#include <gtest/gtest.h>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

// `model_dir` empty: stories260K; `tokenizer_dir`: the model's tokenizer when it has none of its own.
void run_lambda_scenario(const std::string& scenario, std::string model_dir = "",
                         const std::string& tokenizer_dir = "") {
  if (model_dir.empty()) model_dir = shared_path("models/stories260K-hf");
  std::vector<std::string> argv = {
      node_binary(),
      std::string(R1_E2E_DIR) + "/lambda_e2e.mjs",
      scenario,
      R1SERVE_BIN,
      js_dir(),
      model_dir,
      shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
      tokenizer_dir};
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(LambdaRuntime, PromptFunctionUrlDeadlineAndMalformedEvents) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  run_lambda_scenario("invocations");
}

// A random Llama with stories' vocabulary, about 10 M parameters: a few milliseconds a token on one thread,
// so that tokens exist one after another while the response streams (stories260K answers 64 tokens before
// the first piece is out).
TEST(LambdaRuntime, ResponseStreamingThroughAFunctionUrlArrivesInPieces) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  TempDir tmp;
  TinyModelSpec spec;
  spec.hidden = 384;
  spec.ffn = 1024;
  spec.layers = 6;
  spec.heads = 6;
  spec.kv_heads = 2;
  spec.vocab = 512;
  spec.seed = 11;
  write_tiny_model(tmp.file("stories260K-hf"), spec);
  run_lambda_scenario("streaming", tmp.file("stories260K-hf"), shared_path("models/stories260K-hf"));
}

TEST(LambdaRuntime, InitFailureIsPostedToInitError) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  run_lambda_scenario("init-error");
}

}  // namespace
}  // namespace r1::test
