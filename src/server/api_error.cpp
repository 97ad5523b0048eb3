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

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace r1::server
