#include "server/api/tgi/tgi_error.h"

namespace r1::server::tgi {

void validation_error(const std::string& what) {
  throw ValidationFailure("Input validation error: " + what);
}

TgiError from_serving(const serving::ServingError& e) {
  using serving::ErrorKind;
  switch (e.kind()) {
    case ErrorKind::invalid_request:
      return {422, "validation", std::string("Input validation error: ") + e.what()};
    case ErrorKind::overloaded:
      // TGI's message, with ours (the limit and its flag) after it.
      return {429, "overloaded", std::string("Model is overloaded: ") + e.what(),
              e.retry_after().value_or(1)};
    case ErrorKind::unavailable:
      return {503, "unavailable", e.what(), e.retry_after().value_or(1)};
    case ErrorKind::not_found:
      return {404, "not_found", e.what()};
    case ErrorKind::internal:
      // A model whose files fail to load cannot generate: TGI's GenerationError (424), naming the file.
      if (e.code() == "model_load_failed") return generation_error(e.what());
      break;
  }
  return {500, "generation", std::string("Request failed during generation: ") + e.what()};
}

TgiError from_api(const ApiError& e) {
  switch (e.status()) {
    case 400:
    case 422:
      return {422, "validation", e.what()};
    case 401:
      return {401, "unauthorized", e.what()};
    case 429:
      return {429, "overloaded", e.what(), 1};
    case 503:
      return {503, "unavailable", e.what(), 1};
    default:
      return {e.status(), e.type(), e.what()};
  }
}

TgiError generation_error(const std::string& what) {
  return {424, "generation", "Request failed during generation: " + what};
}

void send_error(HttpResponder& res, const TgiError& e) {
  HeaderList h;
  if (e.retry_after) h.emplace_back("Retry-After", std::to_string(*e.retry_after));
  if (e.status == 401) h.emplace_back("WWW-Authenticate", "Bearer");
  res.send(e.status, "application/json", dump_json(e.to_json()), h);
}

std::string sse_event(const nlohmann::json& data) {
  return "data:" + dump_json(data) + "\n\n";
}

}  // namespace r1::server::tgi
