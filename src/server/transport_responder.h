// The part of answering one request that does not depend on the transport, shared by the HTTP/1.1 and h2c
// responders: only the first of send / begin_stream counts, writes go only between begin_stream and
// end_stream and only while the client is there, and the "client went away" signal. A transport supplies the
// four actions that put bytes on its connection or stream.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "server/disconnect_signal.h"
#include "server/http_server.h"

namespace r1::server {

class TransportResponder : public HttpResponder {
 public:
  void send(int status, std::string content_type, std::string body, HeaderList headers) final {
    if (started_.exchange(true)) return;
    ended_ = true;
    transport_send(status, std::move(content_type), std::move(body), std::move(headers));
  }
  void begin_stream(int status, std::string content_type, HeaderList headers) final {
    if (started_.exchange(true)) return;
    transport_begin(status, std::move(content_type), std::move(headers));
  }
  void write(std::string data) final {
    if (!started_.load() || ended_.load() || disconnect_.fired() || data.empty()) return;
    transport_write(std::move(data));
  }
  void end_stream() final {
    if (!started_.load() || ended_.exchange(true)) return;
    transport_end();
  }
  bool closed() const final { return disconnect_.fired(); }
  void on_disconnect(std::function<void()> fn) final { disconnect_.subscribe(std::move(fn)); }

  // The transport saw the connection or stream die before the response was complete (on its strand).
  void mark_disconnected() { disconnect_.fire(); }

 protected:
  // For the transport's destructor: the handler dropped its responder without answering, and the client is
  // still there — answer dropped_response_body() with a 500 rather than leave the request hanging.
  bool dropped_unanswered() const { return !started_.load() && !disconnect_.fired(); }
  static std::string dropped_response_body();

  virtual void transport_send(int status, std::string content_type, std::string body, HeaderList headers) = 0;
  virtual void transport_begin(int status, std::string content_type, HeaderList headers) = 0;
  virtual void transport_write(std::string data) = 0;
  virtual void transport_end() = 0;

 private:
  std::atomic<bool> started_{false}, ended_{false};
  DisconnectSignal disconnect_;
};

}  // namespace r1::server
