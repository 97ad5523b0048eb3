#pragma once
// The Response object a /v1/responses generation produces, written as it comes: typed server-sent events
// (response.created … response.completed, with sequence numbers and fixed item ids) or one JSON body at the
// end. R1's thinking is a `reasoning` item, the answer a `message` item, tool calls `function_call` items;
// the finished response (and its conversation, for previous_response_id) goes into the store.
#include <memory>
#include <nlohmann/json.hpp>

#include "server/api/openai/completions_adapter.h"
#include "server/api/openai/response_store.h"
#include "server/http_server.h"
#include "serving/generation.h"

namespace r1::server {

// `base`: the Response object's fields as created (id "resp_…", model, echoed request fields); `keep`: store
// the result under its id with `conversation` plus this answer.
std::shared_ptr<serving::GenerationObserver> make_response_writer(nlohmann::json base, bool stream,
                                                                  bool reasoning_enabled,
                                                                  std::shared_ptr<HttpResponder> res,
                                                                  std::shared_ptr<ResponseStore> store,
                                                                  bool keep, nlohmann::json conversation,
                                                                  OnGenerationFinished on_finished);

}  // namespace r1::server
