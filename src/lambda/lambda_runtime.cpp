#include "lambda/lambda_runtime.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "lambda/lambda_events.h"
#include "lambda/runtime_client.h"
#include "model/model_package.h"
#include "server/router.h"

namespace r1::lambda {

namespace {
using SteadyClock = std::chrono::steady_clock;

// The steady-clock instant `margin` before `deadline_ms` (Unix epoch milliseconds).
SteadyClock::time_point steady_deadline(int64_t deadline_ms, std::chrono::milliseconds margin) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return SteadyClock::now() + std::chrono::milliseconds(deadline_ms - now_ms) - margin;
}
}  // namespace

int run_lambda(const LambdaOptions& lo, const std::function<server::ServeOptions()>& configure) {
  signal(SIGPIPE, SIG_IGN);
  RuntimeClient client(lo.runtime_api);
  std::unique_ptr<server::Router> router;
  const auto t0 = SteadyClock::now();
  try {
    server::ServeOptions o = configure();
    o.lifecycle.idle_unload = std::nullopt;  // one model, loaded at init, kept for the sandbox's life
    for (auto& m : o.models) m.preload = true;
    std::string name = !o.models.empty()             ? o.models.front().name
                       : o.served_model_name.empty() ? package_name(o.model_dir)
                                                     : o.served_model_name;
    router = std::make_unique<server::Router>(o, name);
    router->start();
    while (router->models().starting()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (auto err = router->models().preload_error()) throw std::runtime_error(*err);
  } catch (const std::exception& e) {
    spdlog::error("lambda init failed: {}", e.what());
    try {
      client.init_error("Runtime.InitError", e.what());
    } catch (const std::exception& post) {
      spdlog::error("{}", post.what());
    }
    if (router) router->models().shutdown();
    return 1;
  }
  spdlog::info("lambda runtime ready in {:.2f} s; polling {}",
               std::chrono::duration<double>(SteadyClock::now() - t0).count(), lo.runtime_api);

  int rc = 0;
  for (size_t n = 0; lo.max_invocations == 0 || n < lo.max_invocations; ++n) {
    Invocation inv;
    try {
      inv = client.next();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      rc = 1;
      break;
    }
    const auto started = SteadyClock::now();
    router->set_deadline(inv.deadline_ms > 0
                             ? std::optional(steady_deadline(inv.deadline_ms, lo.deadline_margin))
                             : std::nullopt);
    try {
      std::string body;
      std::string error_type, error_message;
      std::shared_ptr<ResponseStream> stream;
      try {
        if (lo.invoke_mode == "RESPONSE_STREAM") stream = start_streamed_event(*router, inv.event);
        if (!stream) body = handle_event(*router, inv.event);
      } catch (const EventError& e) {
        error_type = e.type;
        error_message = e.what();
      } catch (const std::exception& e) {
        error_type = "Runtime.HandlerError";
        error_message = e.what();
      }
      if (stream) {
        client.respond_stream(inv.request_id, kHttpIntegrationResponse, *stream);
      } else if (error_type.empty()) {
        client.respond(inv.request_id, body);
      } else {
        spdlog::warn("invocation {}: {}: {}", inv.request_id, error_type, error_message);
        client.error(inv.request_id, error_type, error_message);
      }
      spdlog::info("invocation {}: {} in {:.3f} s", inv.request_id, error_type.empty() ? "answered" : "error",
                   std::chrono::duration<double>(SteadyClock::now() - started).count());
    } catch (const std::exception& e) {
      spdlog::error("invocation {}: {}", inv.request_id, e.what());
    }
    router->set_deadline(std::nullopt);
  }
  router->models().shutdown();
  return rc;
}

}  // namespace r1::lambda
