#pragma once
// AWS Signature Version 4 on the server side: who signed a request (the access key id of its Credential
// scope), and whether the signature is right for a given secret key. Bedrock clients sign every request this
// way; r1serve checks them when told the key pair (--aws-access-key-id, --aws-secret-access-key).
#include <optional>
#include <string>

#include "server/http_server.h"

namespace r1::server::bedrock {

// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
struct SigV4Auth {
  std::string access_key_id;
  std::string scope;  // date/region/service/aws4_request
  std::string date, region, service;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;                    // lower-case hex
};

// The parsed header, or nullopt when `authorization` is not a SigV4 one. Throws r1::Error naming the part
// that is malformed when it claims to be SigV4 but is not well formed.
std::optional<SigV4Auth> parse_sigv4(const std::string& authorization);

// The canonical request of SigV4 (non-S3 rules: each path segment URI-encoded again) for `req` signed over
// `auth.signed_headers`.
std::string canonical_request(const HttpRequest& req, const SigV4Auth& auth);

// The signature `secret_key` gives this request (lower-case hex); `amz_date` is its x-amz-date.
std::string sigv4_signature(const HttpRequest& req, const SigV4Auth& auth, const std::string& secret_key,
                            const std::string& amz_date);

// True when the request's signature is the one `secret_key` gives (compared in constant time).
bool sigv4_verify(const HttpRequest& req, const SigV4Auth& auth, const std::string& secret_key);

// How far a signature's time may be from the server's clock, as AWS allows.
constexpr int64_t kMaxClockSkewSeconds = 15 * 60;

// AWS's refusal of a request signed at `amz_date` (ISO 8601 basic, 20150830T123600Z) when that is more than
// kMaxClockSkewSeconds from `now` (Unix seconds): "Signature expired: ... is now earlier than ..." or
// "Signature not yet current: ... is still later than ...", worded as AWS words them (the SDKs recognise the
// first and correct their clock); nullopt when within. Throws r1::Error naming x-amz-date when it is
// malformed.
std::optional<std::string> sigv4_clock_skew(const std::string& amz_date, int64_t now);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(const std::string& data);

}  // namespace r1::server::bedrock
