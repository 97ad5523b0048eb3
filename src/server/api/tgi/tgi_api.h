#pragma once
// Text Generation Inference's own API over serving (TGI 3.x, router/src/server.rs): POST /generate,
// POST /generate_stream, POST / (TGI's compat route: dispatches on "stream"; a whole answer comes as a
// one-element array, as Hugging Face's Inference API does) and GET /info. Clients written for TGI — the
// `text_generation` Python client, `@huggingface/inference` with an endpointUrl, LangChain's TGI wrapper —
// run against r1serve unchanged. Every error is TGI's `{"error", "error_type"}` (tgi_error.h), never
// OpenAI's.
#include <memory>
#include <optional>
#include <string>

#include "server/api/openai/completions_adapter.h"
#include "server/http_server.h"
#include "server/serve_options.h"
#include "serving/service.h"

namespace r1::server::tgi {

class TgiApi {
 public:
  TgiApi(serving::Service& service, const ServeOptions& options) : service_(service), opt_(options) {}

  // Whether `path` (trailing slash removed) with this method is one of TGI's routes. GET / is not (it
  // stays free for other uses); the other paths are TGI's whatever the method (405 in TGI's form).
  static bool routes(const std::string& method, const std::string& path);

  // Answers the request (errors included), then calls `on_finished` once (access log). `model`: the
  // served model to use (SageMaker's endpoint name), else the default one. --api-key is checked
  // as TGI's own --api-key is: `Authorization: Bearer KEY`.
  void handle(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
              const std::string& request_id, const OnGenerationFinished& on_finished,
              std::optional<std::string> model = std::nullopt);

 private:
  // Once the model is loaded: validates, starts the generation, answers through `res`.
  void generate(const std::shared_ptr<serving::ServedModel>& model, const HttpRequest& req, bool stream,
                bool compat, const std::shared_ptr<HttpResponder>& res, const std::string& request_id,
                const OnGenerationFinished& on_finished);
  nlohmann::json info() const;

  serving::Service& service_;
  const ServeOptions& opt_;
};

}  // namespace r1::server::tgi
