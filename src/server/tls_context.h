#pragma once
// TLS for the HTTP server (--ssl-certfile, --ssl-keyfile, --ssl-ca-certs): the OpenSSL context every TLS
// connection shares, with ALPN offering h2 and http/1.1. Only server .cpp files include this (it brings in
// Boost.Asio's SSL headers).
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace r1::server {

// Builds the context for `tls` (whose certfile is set). Throws r1::Error naming the flag and the file when a
// file cannot be read or parsed, or when the key does not match the certificate, so a misconfigured server
// fails at start rather than on its first handshake. With ca_certs, clients must present a certificate that
// CA signed.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsOptions& tls);

// The protocol ALPN settled on for a connection (native OpenSSL handle): "h2", "http/1.1", or "" when the
// client offered none.
std::string_view alpn_selected(const void* ssl);

}  // namespace r1::server
