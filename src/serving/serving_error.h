#pragma once
// What the serving layer can refuse a request with, in protocol-neutral terms. Each protocol adapter maps the
// kind to its own wire form (OpenAI: HTTP status + error JSON); `param` names the request field at fault in
// the adapter's vocabulary (the adapter passes field names in, e.g. "max_completion_tokens").
#include <optional>
#include <string>

#include "core/error.h"

namespace r1::serving {

enum class ErrorKind {
  invalid_request,  // the request itself is wrong (a field, a limit)
  not_found,        // an unknown model
  overloaded,       // too many requests in flight; retry shortly
  unavailable,      // loading or draining; retry shortly
  internal,         // our failure, reported and never a crash
};

class ServingError : public r1::Error {
 public:
  ServingError(ErrorKind kind, std::string message, std::optional<std::string> param = std::nullopt,
               std::optional<std::string> code = std::nullopt)
      : r1::Error(message), kind_(kind), param_(std::move(param)), code_(std::move(code)) {}
  ErrorKind kind() const { return kind_; }
  const std::optional<std::string>& param() const { return param_; }
  const std::optional<std::string>& code() const { return code_; }
  // Seconds a client should wait before retrying (HTTP Retry-After); unset: the protocol's default.
  const std::optional<int>& retry_after() const { return retry_after_; }
  void set_retry_after(int seconds) { retry_after_ = seconds; }

 private:
  ErrorKind kind_;
  std::optional<std::string> param_, code_;
  std::optional<int> retry_after_;
};

[[noreturn]] void invalid_request(std::string message, std::optional<std::string> param = std::nullopt,
                                  std::optional<std::string> code = std::nullopt);

}  // namespace r1::serving
