#pragma once
// What the client-driven e2e suites share: the stories260K server they talk to, and a fixture that starts one
// such server for a whole suite (its tests run scenarios against it; they skip, saying why, without the
// shared models or the npm packages).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {

// `r1serve serve` arguments for the shared stories260K model, one compute thread, a 64 MiB KV cache, with the
// R1 distills' chat template unless `r1_template` is false, then `extra`.
inline std::vector<std::string> stories_server_args(std::vector<std::string> extra = {},
                                                    bool r1_template = true) {
  std::vector<std::string> a = {
      "--model", shared_path("models/stories260K-hf"), "--kv-cache-memory", "64MiB", "--threads", "1"};
  if (r1_template) {
    a.push_back("--chat-template");
    a.push_back(shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"));
  }
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// A suite sharing one server started with `Args()`.
template <std::vector<std::string> (*Args)()>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!shared_available() || !std::filesystem::exists(js_dir() + "/node_modules")) return;
    server_ = new ServerProcess(Args());
  }
  static void TearDownTestSuite() {
    if (server_) {
      EXPECT_EQ(server_->terminate(), 0) << server_->log();
    }
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
    ASSERT_TRUE(server_ && server_->healthy());
  }
  static inline ServerProcess* server_ = nullptr;
};

}  // namespace r1::test
