// The Bedrock adapter's pieces that need no model: SigV4 against the AWS test suite, the auth rules, modelId
// mapping, and the map from every refusal to the Bedrock error shape the SDKs decode.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/api/bedrock/bedrock_api.h"
#include "server/api/bedrock/bedrock_error.h"
#include "server/api/bedrock/sigv4.h"

namespace r1::server::bedrock {
namespace {

using nlohmann::json;

json suite() {
  std::ifstream f(std::string(R1_SERVER_TEST_DIR) + "/data/sigv4_suite.json");
  return json::parse(f);
}

HttpRequest suite_request(const json& c) {
  HttpRequest r;
  r.method = c["method"];
  r.path = c["path"];
  r.target = r.path + (c["query"].get<std::string>().empty() ? "" : "?" + c["query"].get<std::string>());
  r.body = c["body"];
  for (const auto& h : c["headers"]) r.headers.emplace_back(h[0], h[1]);
  return r;
}

TEST(SigV4, TheAwsTestSuiteSignaturesVerify) {
  json s = suite();
  ASSERT_GE(s["cases"].size(), 20u);
  for (const json& c : s["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto auth = parse_sigv4(c["authorization"]);
    ASSERT_TRUE(auth);
    EXPECT_EQ(auth->access_key_id, "AKIDEXAMPLE");
    EXPECT_EQ(auth->region, "us-east-1");
    EXPECT_EQ(auth->service, "service");
    HttpRequest r = suite_request(c);
    EXPECT_EQ(sigv4_signature(r, *auth, s["secret"], "20150830T123600Z"), auth->signature);
    EXPECT_TRUE(sigv4_verify(r, *auth, s["secret"]));
    EXPECT_FALSE(sigv4_verify(r, *auth, "another secret"));
    r.body += "x";  // the payload is signed too
    EXPECT_FALSE(sigv4_verify(r, *auth, s["secret"]));
  }
}

TEST(SigV4, NotSigV4OrMalformed) {
  EXPECT_FALSE(parse_sigv4("Bearer abc"));
  EXPECT_FALSE(parse_sigv4(""));
  EXPECT_THROW(
      parse_sigv4("AWS4-HMAC-SHA256 Credential=AKID/2015/us-east-1/x, SignedHeaders=host, Signature=ab"),
      r1::Error);
  EXPECT_THROW(
      parse_sigv4("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s/aws4_request, Signature=ab"),
      r1::Error);
}

// Signed `skew_s` seconds from now (x-amz-date).
HttpRequest with_auth(const std::string& value, int64_t skew_s = 0) {
  HttpRequest r;
  r.method = "POST";
  r.path = r.target = "/model/m/invoke";
  if (!value.empty()) r.headers.emplace_back("authorization", value);
  std::time_t t = std::time(nullptr) + skew_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
  r.headers.emplace_back("x-amz-date", date);
  return r;
}

void expect_denied(const HttpRequest& r, const ServeOptions& o) {
  try {
    check_auth(r, o);
    ADD_FAILURE() << "accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(from_api(e).type, "AccessDeniedException");
    EXPECT_EQ(from_api(e).status, 403);
  }
}

TEST(BedrockAuth, Rules) {
  const std::string sig =
      "AWS4-HMAC-SHA256 Credential=AKID1/20150830/us-east-1/bedrock/aws4_request, "
      "SignedHeaders=host, Signature=00";
  ServeOptions none;
  EXPECT_NO_THROW(check_auth(with_auth(""), none));
  EXPECT_NO_THROW(check_auth(with_auth(sig), none));
  ServeOptions key;
  key.api_key = "k";
  EXPECT_NO_THROW(check_auth(with_auth("Bearer k"), key));
  expect_denied(with_auth("Bearer x"), key);
  expect_denied(with_auth(""), key);
  expect_denied(with_auth(sig), key);  // no access key id to match
  ServeOptions aws;
  aws.aws_access_key_id = "AKID1";
  EXPECT_NO_THROW(check_auth(with_auth(sig), aws));
  expect_denied(with_auth("Bearer k"), aws);
  expect_denied(with_auth(""), aws);
  aws.aws_access_key_id = "AKID2";
  expect_denied(with_auth(sig), aws);
  aws.aws_access_key_id = "AKID1";
  aws.aws_secret_access_key = "secret";
  expect_denied(with_auth(sig), aws);  // the signature is wrong
}

// AWS allows a signature's time 15 minutes either side of its clock; past that the request is refused with
// InvalidSignatureException in AWS's words (the SDKs match "Signature expired" to correct their clock).
TEST(SigV4, ClockSkewOver15MinutesIsRefusedAsAwsWordsIt) {
  const int64_t now = 1440938160;  // 20150830T123600Z
  EXPECT_EQ(sigv4_clock_skew("20150830T123600Z", now), std::nullopt);
  EXPECT_EQ(sigv4_clock_skew("20150830T122100Z", now), std::nullopt);  // exactly 15 min early
  EXPECT_EQ(sigv4_clock_skew("20150830T125100Z", now), std::nullopt);  // exactly 15 min late
  EXPECT_EQ(sigv4_clock_skew("20150830T122059Z", now),
            "Signature expired: 20150830T122059Z is now earlier than 20150830T122100Z (20150830T123600Z - 15 "
            "min.)");
  EXPECT_EQ(sigv4_clock_skew("20150830T125101Z", now),
            "Signature not yet current: 20150830T125101Z is still later than 20150830T125100Z "
            "(20150830T123600Z + 15 min.)");
  EXPECT_THROW(sigv4_clock_skew("2015-08-30T12:36:00Z", now), r1::Error);
  EXPECT_THROW(sigv4_clock_skew("20150830T123600", now), r1::Error);

  const std::string sig =
      "AWS4-HMAC-SHA256 Credential=AKID1/20150830/us-east-1/bedrock/aws4_request, "
      "SignedHeaders=host, Signature=00";
  ServeOptions aws;
  aws.aws_access_key_id = "AKID1";
  EXPECT_NO_THROW(check_auth(with_auth(sig, -14 * 60), aws));
  for (int64_t skew : {-16 * 60, 16 * 60}) {
    try {
      check_auth(with_auth(sig, skew), aws);
      ADD_FAILURE() << "accepted a signature " << skew << " s off";
    } catch (const ApiError& e) {
      EXPECT_EQ(from_api(e).type, "InvalidSignatureException");
      EXPECT_EQ(from_api(e).status, 403);
      EXPECT_NE(std::string(e.what()).find(skew < 0 ? "Signature expired" : "Signature not yet current"),
                std::string::npos);
    }
  }
  HttpRequest undated = with_auth(sig);
  undated.headers.pop_back();
  expect_denied(undated, aws);
}

TEST(BedrockModelId, NameOrArnPercentDecoded) {
  EXPECT_EQ(model_name_from_id("stories"), "stories");
  EXPECT_EQ(model_name_from_id("arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Aimported-model%2Fstories"),
            "stories");
  EXPECT_EQ(model_name_from_id("arn:aws:bedrock:us-east-1:123:imported-model/my%20model"), "my model");
  EXPECT_THROW(model_name_from_id("arn%3Aaws%3Abedrock%3A%3A1%3Aimported-model%2F"), ApiError);
}

TEST(BedrockError, EveryRefusalMapsToABedrockShape) {
  using serving::ErrorKind;
  using serving::ServingError;
  auto s = [](ErrorKind k, const char* code = nullptr) {
    BedrockError e = from_serving(
        ServingError(k, "m", std::nullopt, code ? std::optional<std::string>(code) : std::nullopt));
    return std::to_string(e.status) + " " + e.type;
  };
  EXPECT_EQ(s(ErrorKind::invalid_request), "400 ValidationException");
  EXPECT_EQ(s(ErrorKind::not_found), "404 ResourceNotFoundException");
  EXPECT_EQ(s(ErrorKind::overloaded, "rate_limit_exceeded"), "429 ThrottlingException");
  EXPECT_EQ(s(ErrorKind::unavailable, "model_loading"), "429 ModelNotReadyException");
  EXPECT_EQ(s(ErrorKind::unavailable, "model_not_ready"), "429 ModelNotReadyException");
  EXPECT_EQ(s(ErrorKind::unavailable, "draining"), "503 ServiceUnavailableException");
  EXPECT_EQ(s(ErrorKind::internal), "500 InternalServerException");
  auto a = [](int status) {
    BedrockError e = from_api(ApiError(status, "m", "t"));
    return std::to_string(e.status) + " " + e.type;
  };
  EXPECT_EQ(a(400), "400 ValidationException");
  EXPECT_EQ(a(413), "400 ValidationException");
  EXPECT_EQ(a(401), "403 AccessDeniedException");
  EXPECT_EQ(a(403), "403 AccessDeniedException");
  EXPECT_EQ(a(404), "404 ResourceNotFoundException");
  EXPECT_EQ(a(408), "408 ModelTimeoutException");
  EXPECT_EQ(a(424), "424 ModelErrorException");
  EXPECT_EQ(a(429), "429 ThrottlingException");
  EXPECT_EQ(a(503), "503 ServiceUnavailableException");
  EXPECT_EQ(a(500), "500 InternalServerException");
  EXPECT_EQ(stream_exception_type({424, "ModelErrorException", ""}), "modelStreamErrorException");
  EXPECT_EQ(stream_exception_type({429, "ThrottlingException", ""}), "throttlingException");
}

TEST(BedrockBase64, Rfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace r1::server::bedrock
