// Beast/Asio implementation of http_server.h. Each connection is a Session on its own strand; a Responder is
// the handle a handler (or the engine thread) uses to answer one request, and posts everything to that
// strand.
#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "server/api_error.h"
#include "server/h2_session.h"
#include "server/tls_context.h"
#include "server/transport_responder.h"

namespace r1::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string HttpRequest::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

std::string status_reason(int status) {
  return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

namespace {

constexpr size_t kMaxHeaderBytes = 64 << 10;
// Bytes a watched connection may buffer (a pipelined next request) before we stop reading it.
constexpr size_t kMaxWatchBuffer = 1 << 20;
// After a 413 the rest of the body is read and dropped (up to this much) so the client sees the answer.
constexpr size_t kMaxDrainBytes = 64u << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header bytes of a response; the body, if any, follows.
std::string serialize_head(int status, const std::string& content_type, const HeaderList& extra,
                           bool keep_alive, std::optional<size_t> content_length) {
  http::response<http::empty_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "r1serve");
  if (!content_type.empty()) res.set(http::field::content_type, content_type);
  for (const auto& [k, v] : extra) res.set(k, v);
  res.keep_alive(keep_alive);
  if (content_length)
    res.content_length(*content_length);
  else
    res.chunked(true);
  std::ostringstream os;
  os << res.base();
  return os.str();
}

std::string chunk(const std::string& data) {
  std::ostringstream os;
  os << std::hex << data.size() << "\r\n" << data << "\r\n";
  return os.str();
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opt;
  HttpHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<size_t> pending{0};
  std::atomic<bool> accepting{false};
  std::shared_ptr<net::ssl::context> tls;  // set when serving TLS

  void do_accept();
};

namespace {

// What a Responder needs of its connection, whichever stream (TCP or TLS) the connection runs on.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Queues bytes to write (any thread). `last` marks the end of the response.
  virtual void enqueue(std::string bytes, bool last) = 0;
};

class Responder final : public TransportResponder {
 public:
  // head_only: a HEAD request; answers carry the headers (Content-Length included) of the body they omit.
  Responder(std::shared_ptr<SessionBase> s, bool keep_alive, bool head_only, HttpServer::Impl& srv)
      : session_(std::move(s)), keep_alive_(keep_alive), head_only_(head_only), srv_(srv) {}
  ~Responder() override;

 private:
  void transport_send(int status, std::string content_type, std::string body, HeaderList headers) override;
  void transport_begin(int status, std::string content_type, HeaderList headers) override;
  void transport_write(std::string data) override;
  void transport_end() override;

  std::shared_ptr<SessionBase> session_;
  bool keep_alive_;
  bool head_only_;
  HttpServer::Impl& srv_;
};

// One connection. Stream is beast::tcp_stream (plain HTTP/1.1, or h2c handed to serve_h2c) or TlsStream (the
// handshake's ALPN picks HTTP/1.1 here or h2 in serve_h2_tls).
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  // `args`: what Stream is made from (the accepted socket; and the TLS context).
  template <class... A>
  explicit Session(HttpServer::Impl& srv, A&&... args) : stream_(std::forward<A>(args)...), srv_(srv) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls)
        self->handshake();
      else
        self->detect();
    });
  }

  void enqueue(std::string bytes, bool last) override {
    net::post(stream_.get_executor(), [self = shared_from_this(), b = std::move(bytes), last]() mutable {
      if (self->dead_) return;
      self->out_.push_back({std::move(b), last});
      if (!self->writing_) self->do_write();
    });
  }

 private:
  struct Out {
    std::string bytes;
    bool last;
  };

  // The first bytes of a connection say which protocol it speaks: the HTTP/2 preface (h2c with prior
  // knowledge, as the AWS SDK for JavaScript sends even to http:// endpoints) hands it to serve_h2c.
  void detect() {
    if (buffer_.size() >= 3) {
      auto d = buffer_.data();
      std::string first(static_cast<const char*>(d.data()), d.size());
      if (!is_h2_preface(first)) return do_read();
      dead_ = true;
      stream_.expires_never();
      serve_h2c(stream_.release_socket(), std::move(first), {&srv_.opt, &srv_.handler, &srv_.pending});
      return;
    }
    stream_.expires_after(srv_.opt.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->on_read_error(ec);
                              self->buffer_.commit(n);
                              self->detect();
                            });
  }

  // TLS first (instantiated for TlsStream only); then ALPN says which protocol the connection speaks
  // (HTTP/1.1 when the client offered none).
  void handshake() {
    lowest().expires_after(srv_.opt.idle_timeout);
    stream_.async_handshake(net::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        // A client that does not trust our certificate, or has none when --ssl-ca-certs asks for one.
        beast::error_code ignored;
        auto ep = self->lowest().socket().remote_endpoint(ignored);
        spdlog::debug("TLS handshake with {} failed: {}", ignored ? "?" : ep.address().to_string(),
                      ec.message());
        return self->close();
      }
      if (alpn_selected(self->stream_.native_handle()) == "h2") {
        self->dead_ = true;
        self->lowest().expires_never();
        serve_h2_tls(std::move(self->stream_), {&self->srv_.opt, &self->srv_.handler, &self->srv_.pending});
        return;
      }
      self->do_read();
    });
  }

  // The TCP layer (timeouts, shutdown, the peer's address).
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  // What the watch reads from: the raw socket for plain HTTP (no timeout), the TLS stream otherwise.
  auto& watched() {
    if constexpr (kTls)
      return stream_;
    else
      return stream_.socket();
  }

  void do_read() {
    if (dead_) return;
    response_done_ = false;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(srv_.opt.max_body_bytes);
    lowest().expires_after(srv_.opt.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    if (lower(std::string(req[http::field::expect])) == "100-continue") {
      // The body follows only once we say so (curl waits a second otherwise). Content-Length over the cap was
      // already refused by the parser (body_limit), so this is only said to bodies we will read.
      auto msg = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      net::async_write(stream_, net::buffer(*msg),
                       [self = shared_from_this(), msg](beast::error_code ec, size_t) {
                         if (ec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      json_error_and_close(413,
                           fmt::format("request body is larger than the limit of {} bytes (--max-body-bytes)",
                                       srv_.opt.max_body_bytes),
                           "invalid_request_error");
      return;
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      return close();
    }
    // Anything else is a malformed request: say so and close (the stream position is unknown).
    json_error_and_close(400, fmt::format("malformed HTTP request: {}", ec.message()),
                         "invalid_request_error");
  }

  void json_error_and_close(int status, const std::string& message, const std::string& type) {
    keep_alive_ = false;
    lingering_ = true;
    ApiError err(status, message, type);
    std::string body = dump_json(err.to_json());
    std::string bytes = serialize_head(status, "application/json", {}, false, body.size()) + body;
    out_.push_back({std::move(bytes), true});
    if (!writing_) do_write();
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    lowest().expires_never();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = req.target.substr(0, req.target.find('?'));
    req.body = std::move(msg.body());
    for (const auto& f : msg)
      req.headers.emplace_back(lower(std::string(f.name_string())), std::string(f.value()));
    beast::error_code ignored;
    auto ep = lowest().socket().remote_endpoint(ignored);
    if (!ignored) req.remote = ep.address().to_string();

    auto responder = std::make_shared<Responder>(shared_from_this(), keep_alive_, req.method == "HEAD", srv_);
    current_ = responder;
    srv_.pending.fetch_add(1);
    request_open_ = true;
    watch();
    try {
      srv_.handler(req, responder);
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", req.method, req.target, e.what());
      ApiError err(500, std::string("internal error: ") + e.what(), "internal_server_error");
      responder->send(500, "application/json", dump_json(err.to_json()), {});
    }
  }

  // Reads while a response is pending: EOF or an error means the client left. Bytes that arrive (a pipelined
  // request) are kept in buffer_ for the next parse.
  void watch() {
    if (watching_ || dead_ || buffer_.size() >= kMaxWatchBuffer) return;
    watching_ = true;
    watched().async_read_some(buffer_.prepare(4096),
                              [self = shared_from_this()](beast::error_code ec, size_t n) {
                                self->watching_ = false;
                                if (!ec) {
                                  self->buffer_.commit(n);
                                  if (self->response_done_) return self->next_request();
                                  return self->watch();
                                }
                                if (ec == net::error::operation_aborted) {
                                  if (self->response_done_) self->next_request();
                                  return;
                                }
                                self->client_gone();
                              });
  }

  void client_gone() {
    if (auto r = current_.lock()) r->mark_disconnected();
    current_.reset();
    close();
  }

  // The request counts as pending from dispatch until its response is written or its client is gone.
  void request_closed() {
    if (request_open_) srv_.pending.fetch_sub(1);
    request_open_ = false;
  }

  void do_write() {
    if (out_.empty() || dead_) return;
    writing_ = true;
    lowest().expires_after(srv_.opt.write_timeout);
    net::async_write(stream_, net::buffer(out_.front().bytes),
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    // The connection may have been closed (client gone) while this write was in flight; close() left the
    // buffer alive for it, and nothing more is to be written.
    if (dead_) {
      out_.clear();
      return;
    }
    if (ec) return client_gone();
    lowest().expires_never();
    bool last = out_.front().last;
    out_.pop_front();
    if (last) return response_complete();
    do_write();
  }

  void response_complete() {
    request_closed();
    current_.reset();
    if (lingering_) return linger();
    if (!keep_alive_) return close();
    response_done_ = true;
    if (watching_) {
      // The watch read is cancelled; its handler starts the next request.
      beast::error_code ignored;
      lowest().socket().cancel(ignored);
      return;
    }
    next_request();
  }

  void next_request() {
    if (!out_.empty()) return;  // a late write of a finished response cannot happen; be safe anyway
    do_read();
  }

  // Half-close and read what the client still sends, so it receives our error instead of a reset.
  void linger() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(std::chrono::seconds(2));
    drain_buf_.resize(16 << 10);
    drain();
  }
  void drain() {
    stream_.async_read_some(net::buffer(drain_buf_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->close();
                              self->drain();
                            });
  }

  void close() {
    request_closed();
    if (dead_) return;
    dead_ = true;
    // An async_write in flight still reads out_.front(): free the queue only when no write is pending.
    if (!writing_) out_.clear();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  Stream stream_;
  HttpServer::Impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::weak_ptr<Responder> current_;
  std::deque<Out> out_;
  std::string drain_buf_;
  size_t drained_ = 0;
  bool writing_ = false, watching_ = false, response_done_ = false, keep_alive_ = true, lingering_ = false;
  bool dead_ = false, request_open_ = false;
};

Responder::~Responder() {
  // A handler that dropped its responder without answering must not leave the connection hanging.
  if (dropped_unanswered()) {
    std::string body = dropped_response_body();
    session_->enqueue(serialize_head(500, "application/json", {}, keep_alive_, body.size()) + body, true);
  }
}

void Responder::transport_send(int status, std::string content_type, std::string body, HeaderList headers) {
  std::string bytes = serialize_head(status, content_type, headers, keep_alive_, body.size());
  if (!head_only_) bytes += body;
  session_->enqueue(std::move(bytes), true);
}

void Responder::transport_begin(int status, std::string content_type, HeaderList headers) {
  session_->enqueue(serialize_head(status, content_type, headers, keep_alive_, std::nullopt), false);
}

void Responder::transport_write(std::string data) {
  session_->enqueue(chunk(data), false);
}

void Responder::transport_end() {
  session_->enqueue("0\r\n\r\n", true);
}

}  // namespace

void HttpServer::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!accepting.load()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (tls)
        std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls)->start();
      else
        std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket))->start();
    } else if (ec == net::error::operation_aborted) {
      return;
    }
    do_accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->handler = std::move(handler);
  if (impl_->opt.tls.enabled()) impl_->tls = make_tls_context(impl_->opt.tls);
  beast::error_code ec;
  auto addr = net::ip::make_address(impl_->opt.host, ec);
  if (ec) fail("--host {}: not an IP address ({})", impl_->opt.host, ec.message());
  tcp::endpoint ep(addr, impl_->opt.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("cannot listen on {}:{}: {}", impl_->opt.host, impl_->opt.port, ec.message());
}

HttpServer::~HttpServer() {
  stop();
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::start() {
  impl_->accepting = true;
  impl_->do_accept();
  int n = std::max(1, impl_->opt.io_threads);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

void HttpServer::stop_accepting() {
  if (!impl_->accepting.exchange(false)) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
}

size_t HttpServer::pending_responses() const {
  return impl_->pending.load();
}

void HttpServer::stop() {
  if (impl_->threads.empty()) return;
  stop_accepting();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace r1::server
