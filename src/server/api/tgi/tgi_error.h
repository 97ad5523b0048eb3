#pragma once
// Text Generation Inference's errors as its clients read them: an HTTP status and a body
// `{"error": MESSAGE, "error_type": TYPE}` — the same JSON a stream carries as a `data:` event when a
// generation fails after its 200 went out. The types are TGI's (validation 422, overloaded 429, generation
// 424, incomplete_generation 500); r1serve adds unauthorized 401, not_found 404 and unavailable 503 (a model
// still loading: TGI has no such state, and Hugging Face's clients retry on 503).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/api_error.h"
#include "server/http_server.h"
#include "serving/serving_error.h"

namespace r1::server::tgi {

struct TgiError {
  TgiError() = default;
  TgiError(int s, std::string t, std::string m, std::optional<int> retry = std::nullopt)
      : status(s), type(std::move(t)), message(std::move(m)), retry_after(retry) {}

  int status = 500;
  std::string type;  // validation, overloaded, generation, ...
  std::string message;
  std::optional<int> retry_after;  // seconds (429 and 503)

  nlohmann::json to_json() const { return {{"error", message}, {"error_type", type}}; }
};

// A value TGI's validator refuses (not a malformed body): TGI reports these inside a stream, as an event,
// where a malformed body is refused with a status before any stream starts.
class ValidationFailure : public ApiError {
 public:
  explicit ValidationFailure(const std::string& message) : ApiError(422, message, "validation") {}
};

// Throws ValidationFailure: "Input validation error: " + `what` (TGI's wording).
[[noreturn]] void validation_error(const std::string& what);

// invalid_request → 422 validation (TGI's prefix), overloaded → 429 "Model is overloaded", unavailable → 503
// unavailable, not_found → 404, a model that failed to load (model_load_failed) → 424 generation, other
// internal → 500 generation.
TgiError from_serving(const serving::ServingError& e);
// An ApiError thrown by this adapter or a shared helper: 400 and 422 become validation 422, 401 unauthorized,
// 429 overloaded, 503 unavailable, others keep their status.
TgiError from_api(const ApiError& e);
// A generation that failed in the engine (GenerateResult::error): 424, as TGI's GenerationError.
TgiError generation_error(const std::string& what);

// Sends the error as JSON (Retry-After on 429 and 503, WWW-Authenticate on 401).
void send_error(HttpResponder& res, const TgiError& e);

// One server-sent event as TGI's router writes it: `data:JSON` and a blank line.
std::string sse_event(const nlohmann::json& data);

}  // namespace r1::server::tgi
