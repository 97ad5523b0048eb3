// HTTP/2 cleartext on the HTTP/1.1 port: the OpenAI routes answer the same over both (h2_openai_e2e.mjs, with
// Node's http2 module as the client), streaming and client resets included; HTTP/1.1 keeps working beside it.
#include <gtest/gtest.h>

#include "raw_http.h"
#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

TEST(H2c, OpenAiRoutesAnswerTheSameAsOverHttp1) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s({"--model", shared_path("models/stories260K-hf"), "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--kv-cache-memory", "64MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  CommandResult r =
      run_command({node_binary(), std::string(R1_E2E_DIR) + "/h2_openai_e2e.mjs", s.base_url(), js_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
  {
    // The preface, then bytes that are no HTTP/2 frame: the server answers with its SETTINGS and a GOAWAY and
    // closes the connection.
    RawConnection c(s.port());
    ASSERT_TRUE(c.send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(64, '\xff')));
    std::string got = c.read_all();
    ASSERT_GE(got.size(), 9u);
    EXPECT_EQ(got[3], '\x04') << "the first frame is SETTINGS";
  }
  {
    // An HTTP/1.1 request that arrives a byte at a time is still HTTP/1.1 (the preface check waits for 3
    // bytes).
    RawConnection c(s.port());
    const std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    for (char ch : req) ASSERT_TRUE(c.send(std::string(1, ch)));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(parse_raw_response(*r)->status, 200);
  }
  EXPECT_EQ(http_request(s.port(), "GET", "/health").status, 200);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace r1::test
