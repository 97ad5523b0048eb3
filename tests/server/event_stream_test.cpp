// The event-stream encoder against the published test vectors of the `application/vnd.amazon.eventstream`
// encoding, byte for byte. The vectors are the ones AWS's CRT (awslabs/aws-c-event-stream) and the Smithy
// TypeScript codec test against: smithy-lang/smithy-typescript,
// packages/core/src/submodules/event-streams/eventstream-codec/TestVectors.fixture.ts (commit 6815d3e9),
// built by packages/eventstream-codec/scripts/buildTestVectorsFixture.js from test_vectors/{encoded,decoded}.
// Here as hex; the decoded side is written out as Message values.
#include "server/api/bedrock/event_stream.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace r1::server::eventstream {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(char(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

const std::string kBody = "{'foo':'bar'}";

struct Vector {
  const char* name;
  const char* hex;
  Message decoded;
};

std::vector<Vector> positive() {
  Uuid uuid;
  for (int i = 0; i < 16; ++i) uuid.bytes[i] = uint8_t(i + 1);
  return {
      {"all_headers",
       "000000cc000000af0fae64ca0a6576656e742d74797065040000a00c0c636f6e74656e742d747970650700106170706c6963"
       "6174696f6e2f6a736f6e0a626f6f6c2066616c73650109626f6f6c207472756500046279746502cf08627974652062756606"
       "001449276d2061206c6974746c6520746561706f74210974696d657374616d70080000000000845fed05696e74313603002a"
       "05696e7436340500000000028757b20475756964090102030405060708090a0b0c0d0e0f107b27666f6f273a27626172277d"
       "aba5f10c",
       {{{"event-type", int32_t(40972)},
         {"content-type", std::string("application/json")},
         {"bool false", false},
         {"bool true", true},
         {"byte", int8_t(-49)},
         {"byte buf", Bytes{"I'm a little teapot!"}},
         {"timestamp", Timestamp{8675309}},
         {"int16", int16_t(42)},
         {"int64", int64_t(42424242)},
         {"uuid", uuid}},
        kBody}},
      {"empty_message", "000000100000000005c248eb7d98c8ff", {}},
      {"int32_header",
       "0000002d0000001041c424b80a6576656e742d74797065040000a00c7b27666f6f273a27626172277d36f480a0",
       {{{"event-type", int32_t(40972)}}, kBody}},
      {"payload_no_headers", "0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936", {{}, kBody}},
      {"payload_one_str_header",
       "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f27"
       "3a27626172277d8d9c08b1",
       {{{"content-type", std::string("application/json")}}, kBody}},
  };
}

TEST(EventStream, EncodesThePublishedVectorsByteForByte) {
  for (const Vector& v : positive()) {
    SCOPED_TRACE(v.name);
    EXPECT_EQ(encode(v.decoded), unhex(v.hex));
  }
}

TEST(EventStream, DecodesThePublishedVectors) {
  for (const Vector& v : positive()) {
    SCOPED_TRACE(v.name);
    EXPECT_EQ(decode(unhex(v.hex)), v.decoded);
  }
}

TEST(EventStream, RefusesThePublishedCorruptedVectors) {
  const std::pair<const char*, const char*> negative[] = {
      {"corrupted_headers",
       "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b61666f6f27"
       "3a27626172277d8d9c08b1"},
      {"corrupted_header_len",
       "0000003d0000002107fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f27"
       "3a27626172277d8d9c08b1"},
      {"corrupted_length",
       "0000003e0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f27"
       "3a27626172277d8d9c08b1"},
      {"corrupted_payload", "0000001d00000000fd528c5a5b27666f6f273a27626172277dc3653936"},
  };
  for (const auto& [name, hex] : negative) {
    SCOPED_TRACE(name);
    EXPECT_THROW(decode(unhex(hex)), r1::Error);
  }
}

TEST(EventStream, Crc32IsZlibs) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
  EXPECT_EQ(crc32("56789", crc32("1234")), 0xCBF43926u);
}

TEST(EventStream, BedrockEventAndExceptionRoundTrip) {
  Message e = decode(event("chunk", R"({"bytes":"e30="})"));
  ASSERT_EQ(e.headers.size(), 3u);
  EXPECT_EQ(e.headers[0], (Header{":event-type", std::string("chunk")}));
  EXPECT_EQ(e.headers[1], (Header{":content-type", std::string("application/json")}));
  EXPECT_EQ(e.headers[2], (Header{":message-type", std::string("event")}));
  EXPECT_EQ(e.payload, R"({"bytes":"e30="})");
  Message x = decode(exception("modelStreamErrorException", R"({"message":"m"})"));
  EXPECT_EQ(x.headers[0], (Header{":exception-type", std::string("modelStreamErrorException")}));
  EXPECT_EQ(x.headers[2], (Header{":message-type", std::string("exception")}));
}

TEST(EventStream, RefusesOverlongHeaders) {
  EXPECT_THROW(encode({{{std::string(256, 'a'), true}}, ""}), r1::Error);
  EXPECT_THROW(encode({{{"s", std::string(70000, 'x')}}, ""}), r1::Error);
}

}  // namespace
}  // namespace r1::server::eventstream
