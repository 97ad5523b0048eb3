#pragma once
// POST /v1/chat/completions and /v1/completions: a validated ApiRequest becomes a serving generate call, and
// its events become OpenAI's answer — SSE chunks as they come (stream: true) or one JSON body at the end.
#include <functional>
#include <memory>
#include <string>

#include "server/api/openai/protocol.h"
#include "server/http_server.h"
#include "serving/service.h"

namespace r1::server {

// Fields each endpoint honours besides kSharedFields (everything else is refused with a 400 naming it).
extern const std::initializer_list<const char*> kChatFields;
extern const std::initializer_list<const char*> kCompletionFields;

// The request's input and parameters in serving's terms.
serving::GenerateRequest to_generate_request(const ApiRequest& r);

// Starts the generation; the response goes to `res`. `on_finished` runs once the engine is done with it
// (access log). Throws ServingError / ApiError before anything was sent.
// The access-log hook: response id, HTTP status, and what the generation did.
using OnGenerationFinished =
    std::function<void(const std::string& id, int status, const serving::GenerationSummary&)>;

void run_openai_completion(serving::Service& service, ApiRequest req, std::shared_ptr<HttpResponder> res,
                           const std::string& model_name, OnGenerationFinished on_finished);

}  // namespace r1::server
