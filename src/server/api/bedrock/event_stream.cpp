#include "server/api/bedrock/event_stream.h"

#include "core/error.h"

namespace r1::server::eventstream {

namespace {

constexpr size_t kPreludeBytes = 12, kCrcBytes = 4;
// Smithy's limits: 16 MiB a message, 128 KiB of headers.
constexpr size_t kMaxMessageBytes = 16u << 20, kMaxHeaderBytes = 128u << 10;

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(char((v >> (8 * i)) & 0xFF));
}

uint64_t get_be(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | uint8_t(in[at + i]);
  return v;
}

void put_sized(std::string& out, const std::string& s, const std::string& name) {
  if (s.size() > 0xFFFF) fail("event stream header '{}': value of {} bytes (at most 65535)", name, s.size());
  put_be(out, s.size(), 2);
  out += s;
}

void encode_header(std::string& out, const Header& h) {
  if (h.name.empty() || h.name.size() > 255)
    fail("event stream header name of {} bytes (1 to 255)", h.name.size());
  out.push_back(char(h.name.size()));
  out += h.name;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.push_back(char(v ? 0 : 1));
        } else if constexpr (std::is_same_v<T, int8_t>) {
          out.push_back(char(2));
          out.push_back(char(v));
        } else if constexpr (std::is_same_v<T, int16_t>) {
          out.push_back(char(3));
          put_be(out, uint16_t(v), 2);
        } else if constexpr (std::is_same_v<T, int32_t>) {
          out.push_back(char(4));
          put_be(out, uint32_t(v), 4);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.push_back(char(5));
          put_be(out, uint64_t(v), 8);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          out.push_back(char(6));
          put_sized(out, v.data, h.name);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.push_back(char(7));
          put_sized(out, v, h.name);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          out.push_back(char(8));
          put_be(out, uint64_t(v.ms), 8);
        } else {
          out.push_back(char(9));
          out.append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
        }
      },
      h.value);
}

}  // namespace

uint32_t crc32(std::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_table();
  crc = ~crc;
  for (char ch : data) crc = table[(crc ^ uint8_t(ch)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string encode(const Message& m) {
  std::string headers;
  for (const Header& h : m.headers) encode_header(headers, h);
  if (headers.size() > kMaxHeaderBytes)
    fail("event stream headers of {} bytes (at most {})", headers.size(), kMaxHeaderBytes);
  const size_t total = kPreludeBytes + headers.size() + m.payload.size() + kCrcBytes;
  if (total > kMaxMessageBytes)
    fail("event stream message of {} bytes (at most {})", total, kMaxMessageBytes);
  std::string out;
  out.reserve(total);
  put_be(out, total, 4);
  put_be(out, headers.size(), 4);
  put_be(out, crc32(out), 4);
  out += headers;
  out += m.payload;
  put_be(out, crc32(out), 4);
  return out;
}

Message decode(std::string_view in) {
  if (in.size() < kPreludeBytes + kCrcBytes)
    fail("event stream message of {} bytes (at least {})", in.size(), kPreludeBytes + kCrcBytes);
  const uint64_t total = get_be(in, 0, 4), hlen = get_be(in, 4, 4);
  if (total != in.size()) fail("event stream message: total length {} but {} bytes", total, in.size());
  if (uint32_t(get_be(in, 8, 4)) != crc32(in.substr(0, 8)))
    fail("event stream message: prelude CRC mismatch");
  if (kPreludeBytes + hlen + kCrcBytes > total)
    fail("event stream message: headers length {} exceeds the message ({} bytes)", hlen, total);
  if (uint32_t(get_be(in, total - 4, 4)) != crc32(in.substr(0, total - 4)))
    fail("event stream message: message CRC mismatch");
  Message m;
  std::string_view hs = in.substr(kPreludeBytes, hlen);
  size_t at = 0;
  auto need = [&](size_t n) {
    if (at + n > hs.size()) fail("event stream message: header truncated at byte {}", at);
  };
  while (at < hs.size()) {
    need(1);
    size_t nlen = uint8_t(hs[at++]);
    need(nlen + 1);
    Header h;
    h.name = std::string(hs.substr(at, nlen));
    at += nlen;
    int type = uint8_t(hs[at++]);
    auto sized = [&] {
      need(2);
      size_t n = get_be(hs, at, 2);
      at += 2;
      need(n);
      std::string s(hs.substr(at, n));
      at += n;
      return s;
    };
    switch (type) {
      case 0:
        h.value = true;
        break;
      case 1:
        h.value = false;
        break;
      case 2:
        need(1);
        h.value = int8_t(hs[at]);
        at += 1;
        break;
      case 3:
        need(2);
        h.value = int16_t(get_be(hs, at, 2));
        at += 2;
        break;
      case 4:
        need(4);
        h.value = int32_t(get_be(hs, at, 4));
        at += 4;
        break;
      case 5:
        need(8);
        h.value = int64_t(get_be(hs, at, 8));
        at += 8;
        break;
      case 6:
        h.value = Bytes{sized()};
        break;
      case 7:
        h.value = sized();
        break;
      case 8:
        need(8);
        h.value = Timestamp{int64_t(get_be(hs, at, 8))};
        at += 8;
        break;
      case 9: {
        need(16);
        Uuid u;
        for (size_t i = 0; i < 16; ++i) u.bytes[i] = uint8_t(hs[at + i]);
        h.value = u;
        at += 16;
        break;
      }
      default:
        fail("event stream header '{}': unknown type {}", h.name, type);
    }
    m.headers.push_back(std::move(h));
  }
  m.payload = std::string(in.substr(kPreludeBytes + hlen, total - kPreludeBytes - hlen - kCrcBytes));
  return m;
}

std::string event(const std::string& event_type, std::string json_payload) {
  return encode({{{":event-type", event_type},
                  {":content-type", std::string("application/json")},
                  {":message-type", std::string("event")}},
                 std::move(json_payload)});
}

std::string exception(const std::string& exception_type, std::string json_payload) {
  return encode({{{":exception-type", exception_type},
                  {":content-type", std::string("application/json")},
                  {":message-type", std::string("exception")}},
                 std::move(json_payload)});
}

}  // namespace r1::server::eventstream
