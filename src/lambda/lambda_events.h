#pragma once
// What one Lambda event asks, answered through the server's own router without a socket:
// - the seeds' {"prompt", ...sampling fields} → a chat completion (a completion when the model has no chat
//   template) → {"response", "reasoning", "finish_reason", "usage"}: R1's reasoning apart from the answer;
// - a Function URL / API Gateway HTTP API v2 event ({"version": "2.0", rawPath, rawQueryString,
//   requestContext.http.method, headers, cookies, body, isBase64Encoded}) carrying any route of `serve`
//   → {statusCode, headers, cookies?, body, isBase64Encoded}; or, for a function whose Function URL streams
//   (InvokeMode RESPONSE_STREAM), the same answer streamed in Lambda's HTTP integration response format.
#include <memory>
#include <stdexcept>
#include <string>

#include "lambda/runtime_client.h"
#include "server/router.h"

namespace r1::lambda {

// An event that cannot be answered: posted to /runtime/invocation/{id}/error as {errorMessage, errorType}.
struct EventError : std::runtime_error {
  EventError(std::string type, const std::string& message)
      : std::runtime_error(message), type(std::move(type)) {}
  std::string type;
};

// The router's whole answer to one request.
struct RoutedResponse {
  int status = 0;
  std::string content_type, body;
  server::HeaderList headers;
};

// Runs `req` through `router` and waits for the complete answer (a stream is gathered whole).
RoutedResponse route(server::Router& router, const server::HttpRequest& req);

// The response document for `event`. Throws EventError for a malformed event (errorType "InvalidEvent") or a
// {"prompt"} event the server refuses (errorType from the server's error, e.g. "invalid_request_error").
std::string handle_event(server::Router& router, const std::string& event);

// The content type of a streamed Function URL answer: a JSON prelude {statusCode, headers, cookies}, eight
// NUL bytes, then the body (Lambda's HTTP integration response).
inline constexpr const char* kHttpIntegrationResponse = "application/vnd.awslambda.http-integration-response";

// For a Function URL / HTTP API v2 event: starts it through `router` and returns the stream its answer is
// written to as it comes — the prelude as soon as the status is known, then each piece of the body (an SSE
// chat's tokens as they are generated) — closed at the end; abandoning the stream cancels the generation.
// nullptr for any other event (answer it with handle_event). Throws EventError for a malformed HTTP event.
std::shared_ptr<ResponseStream> start_streamed_event(server::Router& router, const std::string& event);

std::string base64_encode(const std::string& bytes);
// Throws EventError when `text` is not base64.
std::string base64_decode(const std::string& text);

}  // namespace r1::lambda
