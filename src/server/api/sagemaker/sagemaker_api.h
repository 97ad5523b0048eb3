#pragma once
// Amazon SageMaker: the container contract (POST /invocations; GET /ping lives in the router) and the
// SageMaker Runtime service API itself — POST /endpoints/{EndpointName}/invocations (InvokeEndpoint) and
// /invocations-response-stream (InvokeEndpointWithResponseStream) — so `@aws-sdk/client-sagemaker-runtime`
// and boto3's `sagemaker-runtime` can be pointed straight at r1serve. Both pass the body through as SageMaker
// passes it to a TGI >= 2.4 container: TGI's {"inputs", ...}, a chat {"messages", ...} or a completion
// {"prompt", ...}, each answered by its own adapter in its own format; this adapter only wraps the answer
// (a whole body, or event-stream PayloadPart events) and maps refusals to SageMaker's error shapes.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/api/openai/completions_adapter.h"
#include "server/http_server.h"
#include "server/serve_options.h"
#include "serving/service.h"

namespace r1::server::sagemaker {

// The protocol a body is in, checked in TGI's order: "inputs" → TGI (POST /, which streams on "stream"),
// "messages" → chat completions, "prompt" → completions. Throws ApiError 400 for anything else.
enum class BodyProtocol { tgi, chat, completion };
BodyProtocol body_protocol(const std::string& body);
// The route that answers a body of that protocol: "/", "/v1/chat/completions", "/v1/completions".
const char* protocol_route(BodyProtocol p);

// The production variant every answer names (SageMaker's default variant name).
inline constexpr const char* kVariant = "AllTraffic";

// Answers `req` on `route` (one of protocol_route's) through `res`, for the model named (the default one when
// nullopt). Errors go to `res` in the route's own form; the caller has already checked auth.
using Dispatch = std::function<void(const HttpRequest& req, const std::string& route,
                                    std::shared_ptr<HttpResponder> res, std::optional<std::string> model)>;

// Wraps an adapter's answer as InvokeEndpoint's: a stream is collected into one body; an error becomes
// SageMaker's (sagemaker_error.h); headers gain x-Amzn-Invoked-Production-Variant and x-amzn-requestid.
// `draining` says whether the server is shutting down (sagemaker_error.h); by default it never is.
using DrainingProbe = std::function<bool()>;
std::shared_ptr<HttpResponder> invoke_responder(std::shared_ptr<HttpResponder> inner, std::string request_id,
                                                DrainingProbe draining = {});
// As InvokeEndpointWithResponseStream's: every chunk (or a whole body) as a PayloadPart event whose payload
// is the bytes; a protocol error event inside the stream is followed by a ModelStreamError exception event.
std::shared_ptr<HttpResponder> stream_responder(std::shared_ptr<HttpResponder> inner, std::string request_id,
                                                DrainingProbe draining = {});

class SageMakerApi {
 public:
  SageMakerApi(serving::Service& service, const ServeOptions& options) : service_(service), opt_(options) {}

  // Answers a request whose path starts with /endpoints/ (errors included, in SageMaker's form). Auth as
  // the Bedrock routes: anyone, a Bearer --api-key, or SigV4 from --aws-access-key-id.
  void handle(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
              const std::string& request_id, const Dispatch& dispatch);

 private:
  serving::Service& service_;
  const ServeOptions& opt_;
};

}  // namespace r1::server::sagemaker
