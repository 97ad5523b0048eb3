#pragma once
// SageMaker Runtime's errors as the AWS SDKs decode them (restJson1): the status, the error shape's name in
// `x-amzn-errortype` and a body with the shape's `Message` (and `message`, which the SDKs read first). The
// runtime routes answer through the OpenAI and TGI adapters, so a refusal reaches this file as the adapter's
// error answer (status and body), which is mapped to the shape the SageMaker Runtime service model declares.
#include <optional>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace r1::server::sagemaker {

struct SageMakerError {
  SageMakerError() = default;
  SageMakerError(int s, std::string t, std::string m, std::optional<int> os = std::nullopt,
                 std::string om = {})
      : status(s),
        type(std::move(t)),
        message(std::move(m)),
        original_status(os),
        original_message(std::move(om)) {}
  int status = 424;
  std::string type;  // ValidationError, ModelError, ModelNotReadyException, ...
  std::string message;
  std::optional<int> original_status;  // ModelError: the container's status and message
  std::string original_message;
};

// An adapter's error answer (OpenAI `{"error": {"message", "code", ...}}` or TGI `{"error", "error_type"}`)
// as SageMaker's: 400/404/405/413/422 → ValidationError 400 (SageMaker answers an unknown endpoint so);
// 401/403 → AccessDeniedException 403; 429 or 503 while the model loads (codes model_not_ready,
// model_loading; TGI's 503 `unavailable` unless the server is `draining`) → ModelNotReadyException 429; other
// 429 → ThrottlingException 429; other 503 (draining) → ServiceUnavailable 503; anything else → ModelError
// 424 with OriginalStatusCode and OriginalMessage. TGI's error body has no code to tell a draining server
// from a loading model, so the caller says which (the service knows; the message's wording is not a
// contract).
SageMakerError from_response(int status, std::string_view body, bool draining = false);

// {"Message", "message"} (+ OriginalStatusCode, OriginalMessage for ModelError).
std::string error_body(const SageMakerError& e);

// Sends the error with `x-amzn-errortype` and `x-amzn-requestid`; Retry-After on 429 and 503.
void send_error(HttpResponder& res, const SageMakerError& e, const std::string& request_id);

}  // namespace r1::server::sagemaker
