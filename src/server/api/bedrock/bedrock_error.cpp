#include "server/api/bedrock/bedrock_error.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace r1::server::bedrock {

BedrockError from_serving(const serving::ServingError& e) {
  using serving::ErrorKind;
  const std::string code = e.code().value_or("");
  switch (e.kind()) {
    case ErrorKind::invalid_request:
      return {400, "ValidationException", e.what()};
    case ErrorKind::not_found:
      return {404, "ResourceNotFoundException", e.what()};
    case ErrorKind::overloaded:
      return {429, "ThrottlingException", e.what()};
    case ErrorKind::unavailable:
      if (code == "model_loading" || code == "model_not_ready")
        return {429, "ModelNotReadyException", e.what()};
      return {503, "ServiceUnavailableException", e.what()};
    case ErrorKind::internal:
      // The model's own failure (its files cannot be loaded) is the model's error, as Bedrock reports a
      // model that fails: the SDK does not retry it.
      if (code == "model_load_failed") return {424, "ModelErrorException", e.what()};
      break;
  }
  return {500, "InternalServerException", e.what()};
}

BedrockError from_api(const ApiError& e) {
  switch (e.status()) {
    case 400:
    case 405:
    case 413:
    case 422:
      return {400, "ValidationException", e.what()};
    case 401:
    case 403:
      // A signature outside the allowed clock skew is AWS's InvalidSignatureException, not a denial of
      // access.
      if (e.code() == "InvalidSignatureException") return {403, "InvalidSignatureException", e.what()};
      return {403, "AccessDeniedException", e.what()};
    case 404:
      return {404, "ResourceNotFoundException", e.what()};
    case 408:
      return {408, "ModelTimeoutException", e.what()};
    case 424:
      return {424, "ModelErrorException", e.what()};
    case 429:
      return {429, "ThrottlingException", e.what()};
    case 503:
      return {503, "ServiceUnavailableException", e.what()};
    default:
      return {500, "InternalServerException", e.what()};
  }
}

void send_error(HttpResponder& res, const BedrockError& e, const std::string& request_id) {
  HeaderList h = {{"x-amzn-errortype", e.type}, {"x-amzn-requestid", request_id}};
  if (e.status == 429 || e.status == 503) h.emplace_back("Retry-After", "1");
  // The server's clock (RFC 9110 Date): the AWS SDKs correct their clock skew from it after a refusal.
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  h.emplace_back("Date", date);
  res.send(e.status, "application/json", dump_json({{"message", e.message}}), h);
}

std::optional<BedrockError> generation_failure(const serving::GenerateResult& r) {
  if (r.error) return BedrockError{424, "ModelErrorException", *r.error};
  if (r.timed_out) return BedrockError{408, "ModelTimeoutException", *r.timed_out};
  return std::nullopt;
}

std::string stream_exception_type(const BedrockError& e, bool converse) {
  // The stream unions name their members after the shapes, first letter lowered; a model failure mid-stream
  // is modelStreamErrorException (ModelErrorException is not a member).
  if (e.type == "ModelErrorException" || (converse && e.type == "ModelTimeoutException"))
    return "modelStreamErrorException";
  std::string t = e.type;
  if (!t.empty()) t[0] = char(std::tolower(static_cast<unsigned char>(t[0])));
  return t;
}

}  // namespace r1::server::bedrock
