#pragma once
// Errors that go back to an API client as OpenAI's error JSON:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}} with the matching HTTP status.
// Everything a request can get wrong is thrown as ApiError; the router turns it into a response, so a bad
// request never reaches the engine and never takes the server down.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"
#include "serving/serving_error.h"

namespace r1::server {

class ApiError : public r1::Error {
 public:
  ApiError(int status, std::string message, std::string type, std::optional<std::string> param = std::nullopt,
           std::optional<std::string> code = std::nullopt)
      : r1::Error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& param() const { return param_; }
  const std::optional<std::string>& code() const { return code_; }

  // The response body.
  nlohmann::json to_json() const;

 private:
  int status_;
  std::string type_;
  std::optional<std::string> param_, code_;
};

// The kinds of error the server answers with (status, OpenAI "type").
[[noreturn]] void bad_request(const std::string& message, std::optional<std::string> param = std::nullopt);
[[noreturn]] void not_found(const std::string& message, std::optional<std::string> param = std::nullopt,
                            std::optional<std::string> code = std::nullopt);

// The OpenAI form of a serving-layer refusal: invalid_request 400, not_found 404, overloaded 429
// (rate_limit_error), unavailable 503 (service_unavailable_error), internal 500.
ApiError to_api_error(const serving::ServingError& e);

// A JSON body as text. Invalid UTF-8 (a token cut inside a character) is replaced, never thrown on.
std::string dump_json(const nlohmann::json& j);

}  // namespace r1::server
