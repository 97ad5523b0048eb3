#pragma once
// A tiny blocking HTTP/1.1 client over POSIX sockets for tests of the server's transport: it sends exact
// bytes (malformed ones too) and reads exact answers. Every call is bounded by a receive timeout.
#include <optional>
#include <string>

namespace r1::test {

class RawConnection {
 public:
  explicit RawConnection(int port);  // connects to 127.0.0.1:port; fails the test on error
  ~RawConnection();
  bool send(const std::string& bytes);
  // Reads one response (head + Content-Length or chunked body). nullopt on close/timeout.
  std::optional<std::string> read_response();
  // Reads until the server closes (or timeout); returns everything.
  std::string read_all();
  void close();
  int fd() const { return fd_; }

 private:
  bool fill();  // reads more into buf_; false on close/timeout/error
  int fd_ = -1;
  std::string buf_;
};

struct RawResponse {
  int status = 0;
  std::string head, body;  // body de-chunked
};
std::optional<RawResponse> parse_raw_response(const std::string& raw);

// One request on a connection of its own, the body sent as JSON; status 0 when no whole answer came back.
RawResponse exchange(int port, const std::string& method, const std::string& path,
                     const std::string& body = "");

}  // namespace r1::test
