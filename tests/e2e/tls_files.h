#pragma once
// Throwaway PEM files for the TLS tests, made with the openssl CLI: a CA, a server certificate it signed for
// 127.0.0.1 (server.pem, server-key.pem), a client certificate it signed (client.pem, client-key.pem),
// another CA nobody trusts (wrong-ca.pem), and a key that belongs to no certificate (other-key.pem).
#include <filesystem>
#include <string>
#include <vector>

namespace r1::test {

class TlsFiles {
 public:
  TlsFiles();
  ~TlsFiles();
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  bool ok() const { return ok_; }
  std::string dir() const { return dir_.string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // openssl's messages, for a failure report.
  std::string log() const { return log_; }

 private:
  bool openssl(std::vector<std::string> args);
  bool make_ca(const std::string& name);
  bool make_signed(const std::string& name, const std::string& subject, const std::string& ext);
  std::string ext_file(const std::string& name, const std::string& ext);

  std::filesystem::path dir_;
  bool ok_ = false;
  std::string log_;
};

}  // namespace r1::test
