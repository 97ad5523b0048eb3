#pragma once
// OpenAI's Responses API as vLLM serves it: POST /v1/responses (streamed with typed events, or not),
// GET and DELETE /v1/responses/{id}. The input (a string or message items, plus instructions and the turns of
// previous_response_id) becomes a chat for serving; R1's thinking comes back as a `reasoning` output item and
// the answer as a `message` item with `output_text`.
#include <functional>
#include <memory>
#include <string>

#include "server/api/openai/completions_adapter.h"
#include "server/api/openai/response_store.h"
#include "server/http_server.h"
#include "serving/service.h"

namespace r1::server {

class ResponsesApi {
 public:
  // Stored responses: at most 1000, each kept for an hour (see response_store.h).
  explicit ResponsesApi(serving::Service& service, size_t capacity = 1000,
                        std::chrono::seconds ttl = std::chrono::hours(1));

  // Handles `path` (/v1/responses or /v1/responses/{id}); throws ApiError / ServingError before anything was
  // sent. Returns true when a generation started (its access-log line comes from on_finished), false when the
  // answer was sent already.
  bool handle(const HttpRequest& req, const std::string& path, std::shared_ptr<HttpResponder> res,
              OnGenerationFinished on_finished);

  ResponseStore& store() { return *store_; }

 private:
  void create(const HttpRequest& req, std::shared_ptr<HttpResponder> res, OnGenerationFinished on_finished);

  serving::Service& service_;
  std::shared_ptr<ResponseStore> store_;
};

}  // namespace r1::server
