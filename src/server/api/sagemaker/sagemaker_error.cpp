#include "server/api/sagemaker/sagemaker_error.h"

#include <nlohmann/json.hpp>

namespace r1::server::sagemaker {

using nlohmann::json;

namespace {

// The message and machine-readable code of an adapter's error body; the raw body when it is neither form.
std::pair<std::string, std::string> message_and_code(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return {std::string(body), ""};
  auto e = j.find("error");
  if (e != j.end() && e->is_object()) {  // OpenAI
    std::string msg = e->value("message", "");
    std::string code;
    if (auto c = e->find("code"); c != e->end() && c->is_string()) code = c->get<std::string>();
    return {msg, code};
  }
  if (e != j.end() && e->is_string()) {  // TGI
    std::string code;
    if (auto t = j.find("error_type"); t != j.end() && t->is_string()) code = t->get<std::string>();
    return {e->get<std::string>(), code};
  }
  if (auto m = j.find("message"); m != j.end() && m->is_string()) return {m->get<std::string>(), ""};
  return {std::string(body), ""};
}

}  // namespace

SageMakerError from_response(int status, std::string_view body, bool server_draining) {
  auto [msg, code] = message_and_code(body);
  const bool draining = code == "draining" || server_draining;
  const bool not_ready =
      code == "model_not_ready" || code == "model_loading" || (code == "unavailable" && !draining);
  if (status == 401 || status == 403) return {403, "AccessDeniedException", msg};
  if ((status == 429 || status == 503) && not_ready) return {429, "ModelNotReadyException", msg};
  if (status == 429) return {429, "ThrottlingException", msg};
  if (status == 503) return {503, "ServiceUnavailable", msg};
  if (status >= 400 && status < 500 && status != 408 && status != 424) return {400, "ValidationError", msg};
  return {424, "ModelError",
          "Received server error (" + std::to_string(status) + ") from primary with message \"" + msg + "\"",
          status, msg};
}

std::string error_body(const SageMakerError& e) {
  json j = {{"Message", e.message}, {"message", e.message}};
  if (e.original_status) {
    j["OriginalStatusCode"] = *e.original_status;
    j["OriginalMessage"] = e.original_message;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_error(HttpResponder& res, const SageMakerError& e, const std::string& request_id) {
  HeaderList h = {{"x-amzn-errortype", e.type}, {"x-amzn-requestid", request_id}};
  if (e.status == 429 || e.status == 503) h.emplace_back("Retry-After", "1");
  res.send(e.status, "application/json", error_body(e), h);
}

}  // namespace r1::server::sagemaker
