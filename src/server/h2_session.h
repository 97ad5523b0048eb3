#pragma once
// HTTP/2 over TLS (ALPN "h2": serve_h2_tls) and without it (h2c, "prior knowledge": serve_h2c — a connection
// whose first bytes are the HTTP/2 preface `PRI * HTTP/2.0` is served here instead of by the HTTP/1.1
// session, on the same port), with nghttp2 doing the framing. Each stream becomes one HttpRequest for the
// same handler, answered through an HttpResponder with the same guarantees as HTTP/1.1: streamed responses
// are flushed as they are written (DATA frames), a stream the client resets or a connection that drops fires
// on_disconnect, and HEAD answers carry the headers of the body they omit.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <string>

#include "server/http_server.h"

namespace r1::server {

// What an h2c connection needs of the server; every member outlives the connections.
struct H2Context {
  const HttpServerOptions* options;
  const HttpHandler* handler;
  std::atomic<size_t>*
      pending;  // requests dispatched whose response is not complete (and client still there)
};

// True when `first` (at least the first 3 bytes of a connection) starts the HTTP/2 client preface.
bool is_h2_preface(std::string_view first);

// Serves the connection until it closes. `initial`: bytes already read from it (the preface's start). The
// socket's executor must be a strand.
void serve_h2c(boost::asio::ip::tcp::socket socket, std::string initial, H2Context ctx);

// A TLS connection as the HTTP/1.1 server holds it.
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Serves a TLS connection whose handshake settled on ALPN "h2", until it closes. Its executor must be a
// strand.
void serve_h2_tls(TlsStream stream, H2Context ctx);

}  // namespace r1::server
