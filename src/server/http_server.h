#pragma once
// The HTTP front door: Boost.Beast (HTTP/1.1) on a few Asio I/O threads, asynchronous, no thread per
// connection; a connection that opens with the HTTP/2 preface is served as h2c on the same port
// (h2_session.h). With TLS (TlsOptions) every connection starts with the handshake, and ALPN picks HTTP/1.1
// or h2. This header hides Beast (pimpl) so the rest of the server sees only plain requests and a responder.
//
// What it guarantees:
// - keep-alive, `Expect: 100-continue`, and a body cap (413 with OpenAI's error JSON, then a lingering close
// so
//   the client reads the answer instead of a reset);
// - while a response is pending the connection is watched, so a client that goes away is noticed at once
//   (HttpResponder::on_disconnect) even if no byte is being written to it;
// - a HEAD request's answer carries the headers of the body it leaves out (Content-Length included);
// - responders are thread-safe: the engine thread may write stream chunks; writes are serialized per
// connection.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace r1::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // target without the query
  std::string body;
  HeaderList headers;  // names in lower case (over HTTP/2 also ":authority", and "host" from it when absent)
  std::string remote;  // peer address, for the access log

  // The value of a header (name in lower case), or "" when absent.
  std::string header(const std::string& lower_name) const;
};

class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  // A whole response. Only the first of send / begin_stream counts.
  virtual void send(int status, std::string content_type, std::string body, HeaderList headers = {}) = 0;
  // A chunked response (server-sent events): begin, write any number of times, end.
  virtual void begin_stream(int status, std::string content_type, HeaderList headers = {}) = 0;
  virtual void write(std::string data) = 0;
  virtual void end_stream() = 0;
  // True once the client has gone away; later writes are dropped.
  virtual bool closed() const = 0;
  // `fn` runs once, on an I/O thread, if the client disconnects before the response is complete (at once if
  // it already has).
  virtual void on_disconnect(std::function<void()> fn) = 0;
};

// Called on an I/O thread for each request; must not block for long. It answers through the responder, now or
// later from any thread.
using HttpHandler = std::function<void(const HttpRequest&, std::shared_ptr<HttpResponder>)>;

// TLS on the listening port (--ssl-certfile, --ssl-keyfile, --ssl-ca-certs); off while certfile is empty.
// ALPN offers h2 and http/1.1: an h2 connection is served by the same HTTP/2 session code as h2c.
struct TlsOptions {
  std::string certfile, keyfile;  // PEM: the certificate chain, and its private key
  std::string ca_certs;           // PEM CA bundle; when set, clients must present a certificate it signed
  bool enabled() const { return !certfile.empty(); }
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 = any free port
  int io_threads = 2;
  size_t max_body_bytes = 8u << 20;
  std::chrono::seconds idle_timeout{60};   // keep-alive connections with no request are closed after this
  std::chrono::seconds write_timeout{60};  // a client that stops reading for this long is dropped
  TlsOptions tls;
};

class HttpServer {
 public:
  // Binds and listens; throws r1::Error naming the address when it cannot, or naming the flag and file when
  // the TLS certificate or key cannot be used.
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  // Starts accepting on the I/O threads; returns at once.
  void start();
  // Closes the listener; open connections finish what they are doing.
  void stop_accepting();
  // Requests received whose response is not yet complete (and whose client is still there).
  size_t pending_responses() const;
  // Stops the I/O threads and closes every connection.
  void stop();

  struct Impl;  // Beast state, in http_server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

// "Not Found" for 404, etc.
std::string status_reason(int status);

}  // namespace r1::server
