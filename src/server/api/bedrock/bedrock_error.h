#pragma once
// Bedrock Runtime's errors as the AWS SDKs decode them (restJson1): the HTTP status, the error's shape name
// in the `x-amzn-errortype` header, and a body `{"message": ...}`. Every refusal the server can make — a
// serving error, an OpenAI-style ApiError from a shared validator, a bad request — maps to one of the shapes
// the Bedrock Runtime service model declares, so the SDK throws its typed exception.
#include <string>

#include "server/api_error.h"
#include "server/http_server.h"
#include "serving/generation.h"
#include "serving/serving_error.h"

namespace r1::server::bedrock {

struct BedrockError {
  int status = 500;
  std::string type;  // ValidationException, AccessDeniedException, ...
  std::string message;
};

// invalid_request → ValidationException 400; not_found → ResourceNotFoundException 404; overloaded →
// ThrottlingException 429; unavailable while the model loads (codes model_loading, model_not_ready) →
// ModelNotReadyException 429, otherwise (draining) ServiceUnavailableException 503; a model that failed to
// load (code model_load_failed) → ModelErrorException 424; other internal → InternalServerException 500.
BedrockError from_serving(const serving::ServingError& e);
// By status: 400/413/422 ValidationException, 401/403 AccessDeniedException (403), 404
// ResourceNotFoundException, 408 ModelTimeoutException, 424 ModelErrorException, 429 ThrottlingException, 503
// ServiceUnavailableException, anything else InternalServerException 500.
BedrockError from_api(const ApiError& e);

// Sends the error with `x-amzn-requestid`; Retry-After on 429 and 503.
void send_error(HttpResponder& res, const BedrockError& e, const std::string& request_id);

// How a finished generation failed, if it did: the engine's failure → ModelErrorException 424; the request
// timeout (--request-timeout) → ModelTimeoutException 408, as Bedrock answers a model that takes too long.
std::optional<BedrockError> generation_failure(const serving::GenerateResult& r);

// The event-stream exception member of a streaming response for the error (its name in the stream union:
// `throttlingException`, `modelStreamErrorException`, ...). InvokeModelWithResponseStream's union has
// `modelTimeoutException`; ConverseStream's has not (`converse`), so a timeout there is a model stream error.
std::string stream_exception_type(const BedrockError& e, bool converse = false);

}  // namespace r1::server::bedrock
