// TLS on `serve` (--ssl-certfile, --ssl-keyfile, --ssl-ca-certs): certificates made with the openssl CLI
// (tls_files.h), the openai npm client and Node's http2 client on the other end (tls_e2e.mjs), and the
// start-up errors for files that cannot be used.
#include <gtest/gtest.h>

#include "server_process.h"
#include "support/test_support.h"
#include "tls_files.h"

namespace r1::test {
namespace {

std::vector<std::string> model_args() {
  return {"--model",           shared_path("models/stories260K-hf"),
          "--chat-template",   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
          "--kv-cache-memory", "64MiB",
          "--threads",         "1"};
}

TEST(Tls, OpenAiClientWithTheTestCaCompletesAChatAndAnotherCaIsRefused) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  TlsFiles certs;
  ASSERT_TRUE(certs.ok()) << certs.log();
  auto args = model_args();
  args.insert(args.end(),
              {"--ssl-certfile", certs.path("server.pem"), "--ssl-keyfile", certs.path("server-key.pem")});
  ServerProcess s(args);
  ASSERT_TRUE(s.healthy());
  ASSERT_EQ(s.base_url().rfind("https://", 0), 0u);
  CommandResult r = run_command(
      {node_binary(), std::string(R1_E2E_DIR) + "/tls_e2e.mjs", s.base_url(), js_dir(), certs.dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST(Tls, ClientCertificatesAreRequiredWithCaCerts) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  TlsFiles certs;
  ASSERT_TRUE(certs.ok()) << certs.log();
  auto args = model_args();
  args.insert(args.end(), {"--ssl-certfile", certs.path("server.pem"), "--ssl-keyfile",
                           certs.path("server-key.pem"), "--ssl-ca-certs", certs.path("ca.pem")});
  ServerProcess s(args);
  ASSERT_TRUE(s.healthy());
  CommandResult r = run_command(
      {node_binary(), std::string(R1_E2E_DIR) + "/tls_e2e.mjs", s.base_url(), js_dir(), certs.dir(), "mtls"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST(Tls, UnusableFilesFailAtStartNamingTheFlagAndFile) {
  R1_REQUIRE_SHARED();
  TlsFiles certs;
  ASSERT_TRUE(certs.ok()) << certs.log();
  auto serve = [&](std::vector<std::string> tls) {
    std::vector<std::string> args = {"serve"};
    auto m = model_args();
    args.insert(args.end(), m.begin(), m.end());
    args.insert(args.end(), tls.begin(), tls.end());
    for (const char* a : {"--host", "127.0.0.1", "--port", "0"}) args.push_back(a);
    return run_r1serve(args);
  };
  {
    // The key of another certificate.
    CommandResult r =
        serve({"--ssl-certfile", certs.path("server.pem"), "--ssl-keyfile", certs.path("other-key.pem")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--ssl-keyfile " + certs.path("other-key.pem") +
                         ": this key does not match the certificate"),
              std::string::npos)
        << r.err;
  }
  {
    CommandResult r =
        serve({"--ssl-certfile", certs.path("missing.pem"), "--ssl-keyfile", certs.path("server-key.pem")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--ssl-certfile " + certs.path("missing.pem") + ": cannot read"), std::string::npos)
        << r.err;
  }
  {
    // A key where the certificate should be.
    CommandResult r = serve(
        {"--ssl-certfile", certs.path("server-key.pem"), "--ssl-keyfile", certs.path("server-key.pem")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--ssl-certfile " + certs.path("server-key.pem") + ": not a PEM certificate chain"),
              std::string::npos)
        << r.err;
  }
  {
    CommandResult r = serve({"--ssl-certfile", certs.path("server.pem")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("needs --ssl-keyfile"), std::string::npos) << r.err;
  }
  {
    CommandResult r = serve({"--ssl-keyfile", certs.path("server-key.pem")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("need --ssl-certfile"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace r1::test
