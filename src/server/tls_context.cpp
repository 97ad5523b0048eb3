#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace r1::server {

namespace ssl = boost::asio::ssl;

namespace {

// Protocols offered, in order of preference (ALPN wire format: a length byte, then the name).
constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// The server's pick among the client's offer (RFC 7301): h2 when offered, else http/1.1; a client that offers
// neither gets no ALPN answer and is served HTTP/1.1, as before ALPN.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kAlpn, sizeof kAlpn, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// Fails with `flag path: cannot read (reason)` unless the file opens for reading.
void require_readable(const char* flag, const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("{} {}: cannot read ({})", flag, path, std::strerror(errno));
}

// OpenSSL's reason for the last failure, for the message.
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string r = ec.message();
  ERR_clear_error();
  return r;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsOptions& tls) {
  if (tls.keyfile.empty())
    fail("--ssl-certfile {} needs --ssl-keyfile (the certificate's private key)", tls.certfile);
  require_readable("--ssl-certfile", tls.certfile);
  require_readable("--ssl-keyfile", tls.keyfile);
  if (!tls.ca_certs.empty()) require_readable("--ssl-ca-certs", tls.ca_certs);

  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and later only (SSLv2/3, TLS 1.0/1.1 are off).
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.certfile, ec);
  if (ec) fail("--ssl-certfile {}: not a PEM certificate chain ({})", tls.certfile, openssl_reason(ec));
  ctx->use_private_key_file(tls.keyfile, ssl::context::pem, ec);
  if (ec) {
    // OpenSSL compares the key with the certificate while loading it.
    if (ERR_GET_REASON(ec.value()) == X509_R_KEY_VALUES_MISMATCH)
      fail("--ssl-keyfile {}: this key does not match the certificate in --ssl-certfile {}", tls.keyfile,
           tls.certfile);
    fail("--ssl-keyfile {}: not a PEM private key ({})", tls.keyfile, openssl_reason(ec));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    fail("--ssl-keyfile {}: this key does not match the certificate in --ssl-certfile {}", tls.keyfile,
         tls.certfile);
  }
  if (!tls.ca_certs.empty()) {
    ctx->load_verify_file(tls.ca_certs, ec);
    if (ec) fail("--ssl-ca-certs {}: not a PEM CA bundle ({})", tls.ca_certs, openssl_reason(ec));
    // Client certificates are required once a CA is named: a client without one fails the handshake.
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // A client resuming its TLS session (Node does on every new connection) is refused with an internal error
    // unless sessions carry a context id once client certificates are verified.
    static constexpr unsigned char kSessionContext[] = "r1serve";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof kSessionContext - 1);
  }
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_alpn, nullptr);
  return ctx;
}

std::string_view alpn_selected(const void* ssl) {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(static_cast<const SSL*>(ssl), &p, &n);
  return p ? std::string_view(reinterpret_cast<const char*>(p), n) : std::string_view();
}

}  // namespace r1::server
