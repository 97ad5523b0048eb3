#include "server/h2_session.h"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <functional>
#include <map>
#include <mutex>

#include "server/api_error.h"
#include "server/transport_responder.h"

namespace r1::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

bool is_h2_preface(std::string_view first) {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const size_t n = std::min(first.size(), kPreface.size());
  return n >= 3 && first.substr(0, n) == kPreface.substr(0, n);
}

namespace {

// The byte stream under a session: tcp::socket for h2c, TlsStream for h2 over TLS. `lowest` is the TCP
// socket under it (shutdown, peer address).
tcp::socket& lowest(tcp::socket& s) {
  return s;
}
tcp::socket& lowest(TlsStream& s) {
  return boost::beast::get_lowest_layer(s).socket();
}

template <class S>
class H2Session;

template <class S>
class H2Responder final : public TransportResponder {
 public:
  H2Responder(std::shared_ptr<H2Session<S>> s, int32_t stream_id, bool head_only)
      : session_(std::move(s)), id_(stream_id), head_only_(head_only) {}
  ~H2Responder() override;

 private:
  void transport_send(int status, std::string content_type, std::string body, HeaderList headers) override;
  void transport_begin(int status, std::string content_type, HeaderList headers) override;
  void transport_write(std::string data) override;
  void transport_end() override;

  std::shared_ptr<H2Session<S>> session_;
  int32_t id_;
  bool head_only_;
};

// One stream's state, touched only on the connection's strand.
struct Stream {
  HttpRequest req;
  std::weak_ptr<TransportResponder> responder;
  std::string out;  // response body bytes not yet framed
  size_t out_at = 0;
  std::string authority;
  bool responded = false, ended = false, refused = false, counted = false;
};

template <class S>
class H2Session : public std::enable_shared_from_this<H2Session<S>> {
  using std::enable_shared_from_this<H2Session<S>>::shared_from_this;
  using std::enable_shared_from_this<H2Session<S>>::weak_from_this;

 public:
  H2Session(S stream, H2Context ctx) : socket_(std::move(stream)), ctx_(ctx), idle_(socket_.get_executor()) {}
  ~H2Session() {
    if (session_) nghttp2_session_del(session_);
  }

  void start(std::string initial) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Session::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Session::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Session::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Session::on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Session::on_stream_close);
    nghttp2_session_server_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 256},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 1 << 24);
    arm_idle(ctx_.options->idle_timeout);
    if (!feed(initial.data(), initial.size())) return;
    flush();
    read();
  }

  // Called through the responder, on the strand.
  void respond(int32_t id, int status, const std::string& content_type, const HeaderList& headers,
               std::optional<std::string> body, bool head_only) {
    Stream* s = find(id);
    if (!s || s->responded || dead_) return;
    s->responded = true;
    std::vector<std::pair<std::string, std::string>> h = {{":status", std::to_string(status)},
                                                          {"server", "r1serve"}};
    if (!content_type.empty()) h.emplace_back("content-type", content_type);
    for (const auto& [k, v] : headers) {
      std::string n = k;
      for (char& c : n) c = char(std::tolower(static_cast<unsigned char>(c)));
      if (n == "connection" || n == "keep-alive" || n == "transfer-encoding") continue;
      h.emplace_back(n, v);
    }
    if (body) h.emplace_back("content-length", std::to_string(body->size()));
    std::vector<nghttp2_nv> nv;
    for (auto& [k, v] : h)
      nv.push_back({reinterpret_cast<uint8_t*>(k.data()), reinterpret_cast<uint8_t*>(v.data()), k.size(),
                    v.size(), NGHTTP2_NV_FLAG_NONE});
    if (body && (head_only || body->empty())) {
      s->ended = true;
      nghttp2_submit_response(session_, id, nv.data(), nv.size(), nullptr);
    } else {
      if (body) {
        s->out = std::move(*body);
        s->ended = true;
      }
      nghttp2_data_provider prd;
      prd.source.ptr = nullptr;
      prd.read_callback = &H2Session::read_body;
      nghttp2_submit_response(session_, id, nv.data(), nv.size(), &prd);
    }
    flush();
  }

  void append(int32_t id, const std::string& data, bool end) {
    Stream* s = find(id);
    if (!s || !s->responded || s->ended || dead_) return;
    s->out += data;
    if (end) s->ended = true;
    nghttp2_session_resume_data(session_, id);
    flush();
  }

  net::any_io_executor executor() { return socket_.get_executor(); }

 private:
  Stream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }

  // Bytes from the client into nghttp2; false (connection closed) on a protocol error.
  bool feed(const char* data, size_t n) {
    in_feed_ = true;
    ssize_t r = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
    in_feed_ = false;
    if (r < 0) {
      spdlog::debug("h2c: closing the connection: {}", nghttp2_strerror(int(r)));
      close();
      return false;
    }
    return true;
  }

  void read() {
    if (dead_) return;
    socket_.async_read_some(net::buffer(rbuf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->close();
                              if (self->finishing_) return self->read();  // drained until the peer closes
                              if (!self->feed(self->rbuf_.data(), n)) return;
                              self->flush();
                              self->read();
                            });
  }

  // Writes what nghttp2 has to send; one write in flight at a time.
  void flush() {
    // Never from inside nghttp2's callbacks: the caller of feed() flushes afterwards.
    if (writing_ || dead_ || in_feed_) return;
    const uint8_t* p = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &p)) > 0)
      wbuf_.append(reinterpret_cast<const char*>(p), size_t(n));
    if (n < 0) return close();
    if (wbuf_.empty()) {
      if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) finish();
      return;
    }
    writing_ = true;
    net::async_write(socket_, net::buffer(wbuf_),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       self->writing_ = false;
                       self->wbuf_.clear();
                       if (ec) return self->close();
                       self->flush();
                     });
  }

  // With no stream open for the idle timeout, the connection is closed (GOAWAY first).
  void arm_idle(std::chrono::steady_clock::duration after) {
    idle_.expires_after(after);
    idle_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->dead_ || self->finishing_) return;
      const auto idle = self->ctx_.options->idle_timeout;
      const auto quiet = std::chrono::steady_clock::now() - self->last_active_;
      if (!self->streams_.empty() || quiet < idle)
        return self->arm_idle(self->streams_.empty() ? idle - quiet : idle);
      nghttp2_session_terminate_session(self->session_, NGHTTP2_NO_ERROR);
      self->flush();
    });
  }

  // The session is over (GOAWAY exchanged, no stream left). Closing the socket now could reset the connection
  // (unread bytes from the peer, such as a WINDOW_UPDATE, make the kernel send RST), and a reset makes the
  // peer drop response bytes it has received but not yet read: the tail of a stream would vanish. So only our
  // side is shut, and the socket is read until the peer closes its side, or for two seconds.
  void finish() {
    if (dead_ || finishing_) return;
    finishing_ = true;
    boost::system::error_code ignored;
    lowest(socket_).shutdown(tcp::socket::shutdown_send, ignored);
    idle_.expires_after(std::chrono::seconds(2));
    idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();
    });
  }

  void close() {
    if (dead_) return;
    dead_ = true;
    idle_.cancel();
    for (auto& [id, s] : streams_) stream_gone(s);
    streams_.clear();
    boost::system::error_code ignored;
    lowest(socket_).shutdown(tcp::socket::shutdown_both, ignored);
    lowest(socket_).close(ignored);
  }

  void stream_gone(Stream& s) {
    last_active_ = std::chrono::steady_clock::now();
    if (s.counted) ctx_.pending->fetch_sub(1);
    s.counted = false;
    if (auto r = s.responder.lock(); r && !(s.responded && s.ended && s.out_at >= s.out.size()))
      r->mark_disconnected();
  }

  void dispatch(int32_t id, Stream& s) {
    HttpRequest& req = s.req;
    // :authority is what HTTP/1.1 calls Host (SigV4 signs it); a client may send both.
    if (!s.authority.empty() && req.header("host").empty()) req.headers.emplace_back("host", s.authority);
    req.path = req.target.substr(0, req.target.find('?'));
    boost::system::error_code ignored;
    auto ep = lowest(socket_).remote_endpoint(ignored);
    if (!ignored) req.remote = ep.address().to_string();
    auto responder = std::make_shared<H2Responder<S>>(shared_from_this(), id, req.method == "HEAD");
    s.responder = responder;
    s.counted = true;
    ctx_.pending->fetch_add(1);
    try {
      (*ctx_.handler)(req, responder);
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", req.method, req.target, e.what());
      ApiError err(500, std::string("internal error: ") + e.what(), "internal_server_error");
      responder->send(500, "application/json", dump_json(err.to_json()), {});
    }
  }

  // --- nghttp2 callbacks (on the strand, inside feed/flush) ---
  static H2Session* self(void* p) { return static_cast<H2Session*>(p); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* u) {
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
      self(u)->streams_[f->hd.stream_id];
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* u) {
    Stream* s = self(u)->find(f->hd.stream_id);
    if (!s) return 0;
    std::string n(reinterpret_cast<const char*>(name), namelen),
        v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method")
      s->req.method = v;
    else if (n == ":path")
      s->req.target = v;
    else if (n == ":authority") {
      s->authority = v;
      s->req.headers.emplace_back(n, v);  // kept by name too: the AWS SDK signs ":authority" over HTTP/2
    } else if (!n.empty() && n[0] != ':')
      s->req.headers.emplace_back(std::move(n), std::move(v));
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* u) {
    H2Session* me = self(u);
    Stream* s = me->find(id);
    if (!s || s->refused) return 0;
    if (s->req.body.size() + len > me->ctx_.options->max_body_bytes) {
      // Answered at once; the rest of the body is dropped.
      s->refused = true;
      ApiError err(413,
                   fmt::format("request body is larger than the limit of {} bytes (--max-body-bytes)",
                               me->ctx_.options->max_body_bytes),
                   "invalid_request_error");
      me->respond(id, 413, "application/json", {}, dump_json(err.to_json()), false);
      return 0;
    }
    s->req.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* u) {
    H2Session* me = self(u);
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      Stream* s = me->find(f->hd.stream_id);
      if (s && !s->refused && !s->responder.lock() && !s->responded) me->dispatch(f->hd.stream_id, *s);
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t id, uint32_t, void* u) {
    H2Session* me = self(u);
    auto it = me->streams_.find(id);
    if (it == me->streams_.end()) return 0;
    me->stream_gone(it->second);
    me->streams_.erase(it);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source*, void* u) {
    Stream* s = self(u)->find(id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t n = std::min(length, s->out.size() - s->out_at);
    std::memcpy(buf, s->out.data() + s->out_at, n);
    s->out_at += n;
    if (s->out_at == s->out.size()) {
      s->out.clear();
      s->out_at = 0;
      if (s->ended) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return ssize_t(n);
      }
      if (n == 0) return NGHTTP2_ERR_DEFERRED;
    }
    return ssize_t(n);
  }

  S socket_;  // the connection: a TCP socket (h2c) or a TLS stream over one
  H2Context ctx_;
  net::steady_timer idle_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::array<char, 16384> rbuf_{};
  std::string wbuf_;
  bool writing_ = false, dead_ = false, in_feed_ = false, finishing_ = false;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();
};

template <class S>
H2Responder<S>::~H2Responder() {
  // A handler that dropped its responder without answering must not leave the stream hanging.
  if (dropped_unanswered())
    net::post(session_->executor(), [s = session_, id = id_, body = dropped_response_body()] {
      s->respond(id, 500, "application/json", {}, body, false);
    });
}

template <class S>
void H2Responder<S>::transport_send(int status, std::string content_type, std::string body,
                                    HeaderList headers) {
  net::post(session_->executor(), [s = session_, id = id_, status, ct = std::move(content_type),
                                   b = std::move(body), h = std::move(headers), head = head_only_]() mutable {
    s->respond(id, status, ct, h, std::move(b), head);
  });
}

template <class S>
void H2Responder<S>::transport_begin(int status, std::string content_type, HeaderList headers) {
  net::post(session_->executor(),
            [s = session_, id = id_, status, ct = std::move(content_type), h = std::move(headers)] {
              s->respond(id, status, ct, h, std::nullopt, false);
            });
}

template <class S>
void H2Responder<S>::transport_write(std::string data) {
  net::post(session_->executor(), [s = session_, id = id_, d = std::move(data)] { s->append(id, d, false); });
}

template <class S>
void H2Responder<S>::transport_end() {
  net::post(session_->executor(), [s = session_, id = id_] { s->append(id, "", true); });
}

}  // namespace

void serve_h2c(tcp::socket socket, std::string initial, H2Context ctx) {
  auto s = std::make_shared<H2Session<tcp::socket>>(std::move(socket), ctx);
  s->start(std::move(initial));
}

void serve_h2_tls(TlsStream stream, H2Context ctx) {
  auto s = std::make_shared<H2Session<TlsStream>>(std::move(stream), ctx);
  s->start({});
}

}  // namespace r1::server
