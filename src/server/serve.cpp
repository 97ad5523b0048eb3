#include "server/serve.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "model/model_package.h"
#include "server/http_server.h"
#include "server/router.h"
#include "serving/keep_alive.h"
#include "serving/served_model.h"

namespace r1::server {

namespace {
using Clock = std::chrono::steady_clock;

// Waits up to `ms` for SIGINT/SIGTERM; returns the signal or 0.
int wait_signal(const sigset_t& set, int ms) {
  timespec ts{ms / 1000, long(ms % 1000) * 1000000L};
  int s = sigtimedwait(&set, nullptr, &ts);
  return s > 0 ? s : 0;
}
}  // namespace

int run_server(const ServeOptions& o) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string name = !o.models.empty()             ? o.models.front().name
                     : o.served_model_name.empty() ? package_name(o.model_dir)
                                                   : o.served_model_name;
  Router router(o, name);
  HttpServerOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.io_threads = o.io_threads;
  ho.max_body_bytes = o.max_body_bytes;
  ho.tls = o.tls;
  HttpServer http(ho, [&router](const HttpRequest& req, std::shared_ptr<HttpResponder> res) {
    router.handle(req, std::move(res));
  });
  http.start();
  serving::ModelRegistry& models = router.models();
  std::string names, preloads;
  for (const auto& m : models.status()) names += (names.empty() ? "`" : ", `") + m.name + "`";
  const char* scheme = o.tls.enabled() ? "https" : "http";
  // Tests and scripts read the port from this line (with --port 0).
  spdlog::info("listening on {}://{}:{} — models {} (idle unload: {}, load wait: {} s)", scheme, o.host,
               http.port(), names, serving::keep_alive_name(o.lifecycle.idle_unload),
               double(o.lifecycle.load_wait.count()) / 1000);
  router.start();

  int sig = 0;
  while (!sig && models.starting()) sig = wait_signal(set, 200);
  if (auto err = models.preload_error()) {
    spdlog::error("cannot load a --preload model: {}", *err);
    http.stop();
    models.shutdown();
    return 1;
  }
  if (!sig) spdlog::info("ready: serving {} on {}://{}:{}", names, scheme, o.host, http.port());
  while (!sig) sig = wait_signal(set, 200);
  spdlog::info("{} received: draining (no new requests; up to {} s for the {} in flight)", strsignal(sig),
               o.drain_timeout_s, http.pending_responses());
  router.set_draining();
  http.stop_accepting();
  if (models.loading()) {
    // A load cannot be interrupted: answer what waits, and leave without it.
    http.stop();
    spdlog::info("stopped while a model was loading");
    spdlog::default_logger()->flush();
    std::_Exit(0);
  }

  auto deadline = Clock::now() + std::chrono::milliseconds(int64_t(o.drain_timeout_s * 1000));
  while (http.pending_responses() > 0 && Clock::now() < deadline) {
    if (wait_signal(set, 50)) {
      spdlog::info("second signal: not waiting any longer");
      break;
    }
  }
  if (http.pending_responses() > 0) {
    spdlog::warn("drain: aborting {} unfinished responses", http.pending_responses());
    models.abort_all();
    for (int i = 0; i < 100 && http.pending_responses() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http.stop();
  // Each engine finishes (and drops) every callback before the HTTP sessions they write to go away.
  models.shutdown();
  spdlog::info("stopped");
  return 0;
}

}  // namespace r1::server
