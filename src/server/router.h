#pragma once
// The HTTP routes of `r1serve serve`: auth, admission, health, models, tokenize, metrics and the two
// generation endpoints. Every failure becomes OpenAI's error JSON with the right status, and every request
// gets one JSON access-log line.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "server/http_server.h"
#include "server/metrics.h"
#include "server/serve_options.h"
#include "server/served_model.h"

namespace r1::server {

class Router {
 public:
  Router(const ServeOptions& options, std::string model_name);

  // Publishes the loaded model: generation requests are served from now on and /health says 200.
  void set_model(std::shared_ptr<ServedModel> model);
  std::shared_ptr<ServedModel> model() const;
  // New generation requests get 503 (shutting down); /health says 503.
  void set_draining();

  void handle(const HttpRequest& req, std::shared_ptr<HttpResponder> res);

  // Generation requests admitted and not yet finished in the engine.
  size_t in_flight() const { return in_flight_->load(); }

 private:
  void generate(const HttpRequest& req, std::shared_ptr<HttpResponder> res, bool chat,
                const std::string& rid);
  void tokenize(const HttpRequest& req, HttpResponder& res);
  void detokenize(const HttpRequest& req, HttpResponder& res);
  std::shared_ptr<ServedModel> require_model() const;
  void check_model_name(const nlohmann::json& body, const ServedModel& m) const;

  ServeOptions opt_;
  std::string name_;
  ServerMetrics metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<ServedModel> model_;
  std::atomic<bool> draining_{false};
  std::shared_ptr<std::atomic<size_t>> in_flight_ = std::make_shared<std::atomic<size_t>>(0);
};

}  // namespace r1::server
