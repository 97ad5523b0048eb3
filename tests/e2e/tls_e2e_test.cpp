// TLS on `serve` (--ssl-certfile, --ssl-keyfile, --ssl-ca-certs): certificates made here with the openssl
// CLI, the openai npm client and Node's http2 client on the other end (tls_e2e.mjs), and the start-up errors
// for files that cannot be used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

// A throwaway folder of PEM files: a CA, a server certificate it signed for 127.0.0.1, a client certificate
// it signed, another CA nobody trusts, and a key that belongs to no certificate.
class TlsFiles {
 public:
  TlsFiles() {
    dir_ = fs::temp_directory_path() / ("r1serve-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ok_ = make_ca("ca") && make_ca("wrong-ca") &&
          make_signed("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost") &&
          make_signed("client", "/CN=r1serve-test-client", "extendedKeyUsage=clientAuth") &&
          openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                   path("other-key.pem")});
  }
  ~TlsFiles() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string dir() const { return dir_.string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string log() const { return log_; }

 private:
  bool openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    CommandResult r = run_command(args);
    log_ += r.err;
    return r.exit_code == 0;
  }
  bool make_ca(const std::string& name) {
    return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                    "2", "-subj", "/CN=" + name, "-keyout", path(name + "-key.pem"), "-out",
                    path(name + ".pem")});
  }
  bool make_signed(const std::string& name, const std::string& subject, const std::string& ext) {
    return openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
                    "-keyout", path(name + "-key.pem"), "-out", path(name + ".csr")}) &&
           openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey",
                    path("ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", ext_file(name, ext),
                    "-out", path(name + ".pem")});
  }
  std::string ext_file(const std::string& name, const std::string& ext) {
    std::string p = path(name + ".ext");
    FILE* f = std::fopen(p.c_str(), "w");
    std::fputs((ext + "\n").c_str(), f);
    std::fclose(f);
    return p;
  }

  fs::path dir_;
  bool ok_ = false;
  std::string log_;
};

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
