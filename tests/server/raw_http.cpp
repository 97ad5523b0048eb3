#include "raw_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace r1::test {

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

bool RawConnection::fill() {
  char tmp[16384];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, size_t(n));
  return true;
}

std::string RawConnection::read_all() {
  while (fill()) {
  }
  std::string out;
  out.swap(buf_);
  return out;
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
// Bytes of a complete response at the start of `raw`, or 0 if it is not complete yet.
size_t complete_length(const std::string& raw, RawResponse* out) {
  size_t he = raw.find("\r\n\r\n");
  if (he == std::string::npos) return 0;
  std::string head = raw.substr(0, he + 2);
  std::string lh = lower(head);
  size_t pos = he + 4;
  int status = std::atoi(raw.c_str() + 9);
  if (status == 100) return 0;
  std::string body;
  if (lh.find("transfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      size_t le = raw.find("\r\n", pos);
      if (le == std::string::npos) return 0;
      size_t len = std::stoul(raw.substr(pos, le - pos), nullptr, 16);
      if (raw.size() < le + 2 + len + 2) return 0;
      body += raw.substr(le + 2, len);
      pos = le + 2 + len + 2;
      if (len == 0) break;
    }
  } else {
    size_t cl = lh.find("content-length:");
    size_t len = cl == std::string::npos ? 0 : std::stoul(lh.substr(cl + 15));
    if (raw.size() < pos + len) return 0;
    body = raw.substr(pos, len);
    pos += len;
  }
  if (out) *out = RawResponse{status, head, body};
  return pos;
}
}  // namespace

std::optional<std::string> RawConnection::read_response() {
  for (;;) {
    // Skip interim 100 Continue answers.
    while (buf_.starts_with("HTTP/1.1 100")) {
      size_t e = buf_.find("\r\n\r\n");
      if (e == std::string::npos) break;
      buf_.erase(0, e + 4);
    }
    if (size_t n = complete_length(buf_, nullptr)) {
      std::string r = buf_.substr(0, n);
      buf_.erase(0, n);
      return r;
    }
    if (!fill()) return std::nullopt;
  }
}

std::optional<RawResponse> parse_raw_response(const std::string& raw) {
  RawResponse r;
  if (complete_length(raw, &r) == 0) return std::nullopt;
  return r;
}

RawResponse exchange(int port, const std::string& method, const std::string& path, const std::string& body) {
  RawConnection c(port);
  c.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  auto raw = c.read_response();
  if (!raw) return {};
  return parse_raw_response(*raw).value_or(RawResponse{});
}

}  // namespace r1::test
