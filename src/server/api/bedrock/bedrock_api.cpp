#include "server/api/bedrock/bedrock_api.h"

#include <openssl/evp.h>

#include <ctime>

#include "server/api/bedrock/bedrock_error.h"
#include "server/api/bedrock/sigv4.h"
#include "server/api_error.h"

namespace r1::server::bedrock {

namespace {

[[noreturn]] void access_denied(const std::string& why) {
  throw ApiError(403, why, "access_denied");
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) &&
        std::isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string model_name_from_id(const std::string& raw_id) {
  std::string id = percent_decode(raw_id);
  if (id.starts_with("arn:")) {
    size_t slash = id.rfind('/');
    if (slash == std::string::npos || slash + 1 == id.size())
      throw ApiError(400, fmt::format("modelId '{}' is an ARN without a model name after its last '/'", id),
                     "invalid_request_error", "modelId");
    return id.substr(slash + 1);
  }
  return id;
}

std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n));
  return out;
}

void check_auth(const HttpRequest& req, const ServeOptions& opt) {
  const bool want_key = !opt.api_key.empty(), want_aws = !opt.aws_access_key_id.empty();
  if (!want_key && !want_aws) return;
  const std::string auth = req.header("authorization");
  if (auth.starts_with("Bearer ")) {
    if (want_key && auth.substr(7) == opt.api_key) return;
    access_denied(want_key
                      ? "the Bearer token is not this server's API key (--api-key)"
                      : "this server takes SigV4-signed requests (--aws-access-key-id), not Bearer tokens");
  }
  std::optional<SigV4Auth> sig;
  try {
    sig = parse_sigv4(auth);
  } catch (const r1::Error& e) {
    access_denied(e.what());
  }
  if (!sig) {
    access_denied(auth.empty() ? "the request is not signed: send 'Authorization: Bearer <--api-key>' or "
                                 "sign it with SigV4 as the AWS SDK does"
                               : "the Authorization header is neither 'Bearer <key>' nor AWS4-HMAC-SHA256");
  }
  if (!want_aws)
    access_denied("SigV4-signed requests need the server's --aws-access-key-id; this one has none");
  if (sig->access_key_id != opt.aws_access_key_id)
    access_denied(
        fmt::format("the access key id '{}' is not this server's (--aws-access-key-id)", sig->access_key_id));
  // The signature's time first, as AWS checks it: a replayed or skewed request is refused whatever its
  // signature (403 InvalidSignatureException, with the server's Date so the SDK can correct its clock).
  std::string amz_date = req.header("x-amz-date");
  if (amz_date.empty())
    access_denied("the SigV4-signed request has no X-Amz-Date header: the time it was signed is required");
  std::optional<std::string> skew;
  try {
    skew = sigv4_clock_skew(amz_date, int64_t(std::time(nullptr)));
  } catch (const r1::Error& e) {
    access_denied(e.what());
  }
  if (skew) throw ApiError(403, *skew, "access_denied", std::nullopt, "InvalidSignatureException");
  if (!opt.aws_secret_access_key.empty() && !sigv4_verify(req, *sig, opt.aws_secret_access_key))
    // As AWS does, the message shows the canonical request the server signed, so a client can compare.
    access_denied(fmt::format(
        "The request signature we calculated does not match the signature you provided "
        "(--aws-secret-access-key). The canonical request for this request should have been\n'{}'",
        canonical_request(req, *sig)));
}

void BedrockApi::handle(const HttpRequest& req, const std::string& path,
                        const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                        const OnGenerationFinished& on_finished) {
  BedrockError err;
  try {
    check_auth(req, opt_);
    // /model/{modelId}/{operation}: the id is percent-encoded, so the operation follows the last '/'.
    const std::string rest = path.substr(std::string("/model/").size());
    const size_t slash = rest.rfind('/');
    const std::string op = slash == std::string::npos ? "" : rest.substr(slash + 1);
    const bool invoke = op == "invoke" || op == "invoke-with-response-stream";
    const bool converse = op == "converse" || op == "converse-stream";
    if ((!invoke && !converse) || slash == 0)
      throw ApiError(404,
                     fmt::format("no Bedrock operation at {} {} (POST /model/{{modelId}}/invoke, "
                                 "invoke-with-response-stream, converse, converse-stream)",
                                 req.method, req.path),
                     "not_found");
    if (req.method != "POST")
      throw ApiError(405, fmt::format("{} takes POST", path), "invalid_request_error");
    if (service_.draining())
      throw serving::ServingError(serving::ErrorKind::unavailable, "the server is shutting down",
                                  std::nullopt, "draining");
    BedrockCall call{service_, model_name_from_id(rest.substr(0, slash)),
                     rid,      op == "invoke-with-response-stream" || op == "converse-stream",
                     res,      on_finished};
    if (invoke)
      run_invoke(std::move(call), req.body);
    else
      run_converse(std::move(call), req.body);
    return;  // logged when the generation finishes
  } catch (const serving::ServingError& e) {
    err = from_serving(e);
  } catch (const ApiError& e) {
    err = from_api(e);
  } catch (const r1::Error& e) {
    err = {400, "ValidationException", e.what()};
  }
  send_error(*res, err, rid);
  if (on_finished) on_finished(rid, err.status, {});
}

}  // namespace r1::server::bedrock
