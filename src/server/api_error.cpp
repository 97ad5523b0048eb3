#include "server/api_error.h"

namespace r1::server {

nlohmann::json ApiError::to_json() const {
  nlohmann::json e = {{"message", what()}, {"type", type_}, {"param", nullptr}, {"code", nullptr}};
  if (param_) e["param"] = *param_;
  if (code_) e["code"] = *code_;
  return {{"error", e}};
}

void bad_request(const std::string& message, std::optional<std::string> param) {
  throw ApiError(400, message, "invalid_request_error", std::move(param));
}

void not_found(const std::string& message, std::optional<std::string> param,
               std::optional<std::string> code) {
  throw ApiError(404, message, "invalid_request_error", std::move(param), std::move(code));
}

ApiError to_api_error(const serving::ServingError& e) {
  using serving::ErrorKind;
  switch (e.kind()) {
    case ErrorKind::invalid_request:
      return ApiError(400, e.what(), "invalid_request_error", e.param(), e.code());
    case ErrorKind::not_found:
      return ApiError(404, e.what(), "invalid_request_error", e.param(), e.code());
    case ErrorKind::overloaded:
      return ApiError(429, e.what(), "rate_limit_error", e.param(), e.code());
    case ErrorKind::unavailable:
      return ApiError(503, e.what(), "service_unavailable_error", e.param(), e.code());
    case ErrorKind::internal:
      break;
  }
  return ApiError(500, e.what(), "internal_server_error", e.param(), e.code());
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace r1::server
