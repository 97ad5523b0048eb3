#include "tls_files.h"

#include <unistd.h>

#include <cstdio>

#include "support/test_support.h"

namespace r1::test {

namespace fs = std::filesystem;

TlsFiles::TlsFiles() {
  dir_ = fs::temp_directory_path() / ("r1serve-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir_);
  ok_ = make_ca("ca") && make_ca("wrong-ca") &&
        make_signed("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost") &&
        make_signed("client", "/CN=r1serve-test-client", "extendedKeyUsage=clientAuth") &&
        openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                 path("other-key.pem")});
}

TlsFiles::~TlsFiles() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool TlsFiles::openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  CommandResult r = run_command(args);
  log_ += r.err;
  return r.exit_code == 0;
}

bool TlsFiles::make_ca(const std::string& name) {
  return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                  "2", "-subj", "/CN=" + name, "-keyout", path(name + "-key.pem"), "-out",
                  path(name + ".pem")});
}

bool TlsFiles::make_signed(const std::string& name, const std::string& subject, const std::string& ext) {
  return openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
                  "-keyout", path(name + "-key.pem"), "-out", path(name + ".csr")}) &&
         openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey",
                  path("ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", ext_file(name, ext),
                  "-out", path(name + ".pem")});
}

std::string TlsFiles::ext_file(const std::string& name, const std::string& ext) {
  std::string p = path(name + ".ext");
  FILE* f = std::fopen(p.c_str(), "w");
  std::fputs((ext + "\n").c_str(), f);
  std::fclose(f);
  return p;
}

}  // namespace r1::test
