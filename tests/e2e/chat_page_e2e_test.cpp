// The chat page at / in headless Chromium against the real server on loopback (chat_page_e2e.mjs drives it
// with playwright-core): every behaviour the issue asks the page to show, each scenario against the server
// flags it needs. The page's screenshots go to a temporary folder, or into docs/ with
// R1_UPDATE_SCREENSHOTS=1 (how docs/chat-*.png are made).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;

std::string stories() {
  return shared_path("models/stories260K-hf");
}
std::string r1_template() {
  return shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
}

// A random Llama slow enough per token (about 34 M parameters in F32) that a stream spans many frames and
// Stop lands mid-answer, with stories' vocabulary and a generation_config.json holding R1's sampling
// defaults (the page's settings must start from them).
void write_slow_model(const std::string& dir) {
  TinyModelSpec s;
  s.hidden = 512;
  s.ffn = 1536;
  s.layers = 8;
  s.heads = 8;
  s.kv_heads = 4;
  s.vocab = 512;
  s.seed = 11;
  write_tiny_model(dir, s);
  std::ofstream(dir + "/generation_config.json")
      << R"({"bos_token_id": 1, "eos_token_id": 2, "do_sample": true, "temperature": 0.6, "top_p": 0.95})";
}

// PNG width and height from the IHDR chunk; {0, 0} when the file is not a PNG.
std::pair<int, int> png_size(const std::string& path) {
  std::string b = read_file(path);
  if (b.size() < 24 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    return int((uint8_t(b[at]) << 24) | (uint8_t(b[at + 1]) << 16) | (uint8_t(b[at + 2]) << 8) |
               uint8_t(b[at + 3]));
  };
  return {be32(16), be32(20)};
}

class ChatPage : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
    if (!std::filesystem::exists("/usr/bin/chromium"))
      GTEST_SKIP() << "/usr/bin/chromium missing: scripts/install-deps.sh installs Debian's chromium";
  }
  // Runs one scenario of chat_page_e2e.mjs; returns what it printed (it asserts on its own).
  json scenario(const ServerProcess& s, const std::string& name, const std::string& out_dir) {
    CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/chat_page_e2e.mjs", name,
                                   s.base_url(), js_dir(), out_dir});
    size_t brace = r.out.rfind("\n{");
    json j = json::parse(brace == std::string::npos ? r.out : r.out.substr(brace + 1), nullptr, false);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\nserver log:\n" << s.log();
    EXPECT_EQ(j.value("ok", false), true) << j.dump(2);
    return j;
  }
  TempDir tmp_;
};

TEST_F(ChatPage, StreamsThinksStopsKeepsConversationsAndKeepsModelOutputInert) {
  write_slow_model(tmp_.file("tiny-random"));
  ServerProcess s({"--model", tmp_.file("tiny-random"), "--tokenizer", stories(), "--chat-template",
                   r1_template(), "--max-reasoning-tokens", "6", "--kv-cache-memory", "64MiB", "--threads",
                   "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  const bool update =
      std::getenv("R1_UPDATE_SCREENSHOTS") && std::string(std::getenv("R1_UPDATE_SCREENSHOTS")) == "1";
  const std::string shots = update ? std::string(R1_E2E_DIR) + "/../../docs" : tmp_.file("");
  json j = scenario(s, "chat", shots);
  // The stopped request was abandoned by its client, as the access log says.
  EXPECT_NE(s.log().find("\"client_gone\":true"), std::string::npos) << s.log();
  EXPECT_EQ(png_size(shots + "/chat-desktop-light.png"), std::make_pair(1280, 800));
  EXPECT_EQ(png_size(shots + "/chat-desktop-dark.png"), std::make_pair(1280, 800));
  EXPECT_EQ(png_size(shots + "/chat-phone.png"), std::make_pair(390, 844));
  // The figures docs/PERFORMANCE.md records (a first load on loopback).
  std::cout << "chat page first load: " << j.value("transfer_bytes", 0) << " bytes in "
            << j.value("requests", 0) << " requests, interactive at " << j.value("tti_ms", 0) << " ms\n";
  EXPECT_EQ(s.terminate(), 0);
}

TEST_F(ChatPage, AsksForTheApiKeyAndUsesIt) {
  ServerProcess s(stories_server_args({"--api-key", "sekret"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  scenario(s, "apikey", tmp_.file(""));
  EXPECT_EQ(s.terminate(), 0);
}

TEST_F(ChatPage, WaitsOutAModelThatIsLoadingWithACountdown) {
  // Two models (one alone would be loaded at start), both loaded on demand, answering 503 until loaded.
  const std::string spec = stories() + ",chat-template=" + r1_template();
  ServerProcess s({"--model", "stories=" + spec, "--model", "stories-copy=" + spec, "--load-wait", "0",
                   "--kv-cache-memory", "32MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  json j = scenario(s, "loading", tmp_.file(""));
  EXPECT_NE(j.value("notice", "").find("stories is loading"), std::string::npos) << j.dump();
  EXPECT_EQ(s.terminate(), 0);
}

}  // namespace
}  // namespace r1::test
