// Load: 64 concurrent streams of mixed lengths on stories260K, with disconnects and over-limit requests
// (load_e2e.mjs). The server must stay up, free every KV block, keep its RSS bounded and drain cleanly.
#include <gtest/gtest.h>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

// `transport`: "" (HTTP/1.1, a connection per request) or "h2" (every request a stream of one h2c
// connection).
void load_rounds(const std::string& transport) {
  ServerProcess s({"--model", shared_path("models/stories260K-hf"), "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--kv-cache-memory", "64MiB", "--max-concurrent-requests", "56", "--max-num-seqs", "32",
                   "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  long rss_before = s.rss_kib();
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> argv = {node_binary(), std::string(R1_E2E_DIR) + "/load_e2e.mjs", s.base_url(),
                                     js_dir()};
    if (!transport.empty()) argv.push_back(transport);
    CommandResult r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log (tail) ---\n"
                              << s.log().substr(s.log().size() > 20000 ? s.log().size() - 20000 : 0);
    std::cout << "round " << round << ": " << r.out;
  }
  long rss_after = s.rss_kib();
  std::cout << "RSS before " << rss_before << " KiB, after two rounds " << rss_after << " KiB\n";
  // The KV pool is preallocated; what grows is buffers and logs. 200 MiB is far above normal and far below a
  // leak of per-request state across 128 requests of this size.
  EXPECT_LT(rss_after - rss_before, 200 * 1024);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST(ServerLoad, SixtyFourConcurrentStreamsWithDisconnects) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  load_rounds("");
}

TEST(ServerLoad, SixtyFourConcurrentStreamsWithDisconnectsOverH2c) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  load_rounds("h2");
}

}  // namespace
}  // namespace r1::test
