#pragma once
// The Amazon Bedrock Runtime API over serving: POST /model/{modelId}/invoke, /invoke-with-response-stream,
// /converse and /converse-stream, so code written for Bedrock (Custom Model Import) runs against r1serve with
// only the client's endpoint changed. This adapter owns its auth (Bedrock API keys as Bearer tokens, SigV4)
// and answers every error in Bedrock's form (bedrock_error.h), never OpenAI's.
#include <memory>
#include <string>

#include "server/api/openai/completions_adapter.h"
#include "server/http_server.h"
#include "server/serve_options.h"
#include "serving/service.h"

namespace r1::server::bedrock {

// The served model a Bedrock modelId names: the id percent-decoded, and for an ARN
// (arn:aws:bedrock:…:imported-model/NAME) its last path segment.
std::string model_name_from_id(const std::string& raw_id);

// Who may call: nothing configured → anyone; `Authorization: Bearer KEY` with --api-key; a SigV4 signature
// whose access key id is --aws-access-key-id (and, with --aws-secret-access-key, whose signature is right).
// Throws ApiError 403 saying what is missing or wrong.
void check_auth(const HttpRequest& req, const ServeOptions& opt);

class BedrockApi {
 public:
  BedrockApi(serving::Service& service, const ServeOptions& options) : service_(service), opt_(options) {}

  // Answers a request whose path starts with /model/ (all of them, errors included), then calls
  // `on_finished` once (access log).
  void handle(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
              const std::string& request_id, const OnGenerationFinished& on_finished);

 private:
  serving::Service& service_;
  const ServeOptions& opt_;
};

// The parts of the adapter behind handle() (invoke_api.cpp, converse_api.cpp): each validates the body,
// starts the generation and answers through `res`; throws ApiError / ServingError before anything is sent.
struct BedrockCall {
  serving::Service& service;
  std::string model;       // the served model's name (from the path)
  std::string request_id;  // x-amzn-requestid
  bool stream = false;
  std::shared_ptr<HttpResponder> res;
  OnGenerationFinished on_finished;
};
void run_invoke(BedrockCall call, const std::string& body);
void run_converse(BedrockCall call, const std::string& body);

// Base64 (RFC 4648, padded), as event-stream `bytes` payloads carry blobs.
std::string base64(const std::string& data);

}  // namespace r1::server::bedrock
