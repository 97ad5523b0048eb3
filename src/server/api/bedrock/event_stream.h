#pragma once
// The `application/vnd.amazon.eventstream` framing (Smithy's "Amazon Event Stream" encoding) that AWS
// streaming responses use: each message is
//   [total length u32][headers length u32][prelude CRC32 u32][headers][payload][message CRC32 u32]
// big-endian, where each header is [name length u8][name][type u8][value] and both CRCs are CRC-32 (IEEE, as
// zlib's crc32). Bedrock's streaming routes send one message per event; the SDKs decode them.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace r1::server::eventstream {

// The header value types of the encoding (type byte in comments). Bools are encoded in the type byte alone.
struct Bytes {  // 6: u16 length + bytes
  std::string data;
  bool operator==(const Bytes&) const = default;
};
struct Timestamp {  // 8: milliseconds since the Unix epoch, i64
  int64_t ms = 0;
  bool operator==(const Timestamp&) const = default;
};
struct Uuid {  // 9: 16 bytes
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};
// bool (0 true / 1 false), int8_t (2), int16_t (3), int32_t (4), int64_t (5), Bytes, std::string (7: u16
// length + UTF-8), Timestamp, Uuid.
using HeaderValue =
    std::variant<bool, int8_t, int16_t, int32_t, int64_t, Bytes, std::string, Timestamp, Uuid>;

struct Header {
  std::string name;  // 1..255 bytes
  HeaderValue value;
  bool operator==(const Header&) const = default;
};

struct Message {
  std::vector<Header> headers;  // in wire order
  std::string payload;
  bool operator==(const Message&) const = default;
};

// CRC-32 (IEEE 802.3, reflected, as zlib), continuing from `crc` (0 to start).
uint32_t crc32(std::string_view data, uint32_t crc = 0);

// The message's bytes. Throws r1::Error when a header name or value is too long for its length field.
std::string encode(const Message& m);

// One whole message from `bytes` (exactly one). Throws r1::Error naming what is wrong: lengths, CRCs, a
// header's type or size.
Message decode(std::string_view bytes);

// The messages Bedrock's streaming routes send: `:message-type` event with `:event-type` and
// `:content-type` application/json, and `:message-type` exception with `:exception-type`.
std::string event(const std::string& event_type, std::string json_payload);
std::string exception(const std::string& exception_type, std::string json_payload);

}  // namespace r1::server::eventstream
