#pragma once
// Routes HTTP requests: health, version, metrics, models, tokenize/detokenize, and the generation endpoints
// of each protocol (api/openai, api/bedrock, api/tgi, api/sagemaker), all over the protocol-neutral
// serving::Service. Every failure becomes the protocol's error (OpenAI's error JSON outside Bedrock's and
// TGI's routes); every request gets an x-request-id (the client's, or a fresh one), CORS headers as
// configured, and one JSON access-log line. HEAD works wherever GET does, and a trailing slash on a path is
// ignored.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/cors.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/serve_options.h"
#include "serving/service.h"

namespace r1::server {

class ResponsesApi;
namespace bedrock {
class BedrockApi;
}
namespace sagemaker {
class SageMakerApi;
}
namespace tgi {
class TgiApi;
}

class Router {
 public:
  Router(const ServeOptions& options, std::string model_name);
  ~Router();

  // Serves `model` (loaded elsewhere) as the default model: generation requests are served from now on and
  // /health says 200.
  void set_model(std::shared_ptr<serving::ServedModel> model);
  // Starts the preloads and the idle-unload clock (serving/model_registry.h).
  void start();
  serving::ModelRegistry& models() { return service_.models(); }
  // New generation requests get 503 (shutting down); /health says 503.
  void set_draining();

  void handle(const HttpRequest& req, std::shared_ptr<HttpResponder> res);
  // Generation requests handled from now on stop at `deadline` with finish_reason "length" (nullopt: no
  // deadline); serving::Service::set_deadline.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    service_.set_deadline(deadline);
  }

  // Generation requests admitted and not yet finished in the engine.
  size_t in_flight() const { return service_.in_flight(); }

 private:
  // TGI's adapter on `path`, for `model` (the default one when nullopt).
  void tgi_call(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
                const std::string& rid, std::optional<std::string> model);
  void route(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
             const std::string& rid);
  // Runs `fn` once the model the body names is loaded (at once when it is), or answers with the error:
  // 503 model_not_ready after --load-wait, the load's failure, an unknown model. Reads (and drops)
  // keep_alive.
  void with_model(const HttpRequest& req, const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                  std::function<void(const HttpRequest&)> fn);
  void generate(const HttpRequest& req, std::shared_ptr<HttpResponder> res, bool chat,
                const std::string& rid);
  void tokenize(const HttpRequest& req, HttpResponder& res);
  void detokenize(const HttpRequest& req, HttpResponder& res);

  ServeOptions opt_;
  ServerMetrics metrics_;
  serving::Service service_;
  Cors cors_;
  std::unique_ptr<ResponsesApi> responses_;
  std::unique_ptr<bedrock::BedrockApi> bedrock_;
  std::unique_ptr<tgi::TgiApi> tgi_;
  std::unique_ptr<sagemaker::SageMakerApi> sagemaker_;
};

}  // namespace r1::server
