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

  std::string name = o.served_model_name.empty() ? package_name(o.model_dir) : o.served_model_name;
  Router router(o, name);
  HttpServerOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.io_threads = o.io_threads;
  ho.max_body_bytes = o.max_body_bytes;
  HttpServer http(ho, [&router](const HttpRequest& req, std::shared_ptr<HttpResponder> res) {
    router.handle(req, std::move(res));
  });
  http.start();
  // Tests and scripts read the port from this line (with --port 0).
  spdlog::info("listening on http://{}:{} — model `{}` loading", o.host, http.port(), name);

  std::atomic<int> state{0};  // 0 loading, 1 ready, 2 failed
  std::thread loader([&] {
    try {
      router.set_model(serving::ServedModel::load(o));
      state = 1;
      spdlog::info("ready: serving `{}` on http://{}:{}", name, o.host, http.port());
    } catch (const std::exception& e) {
      spdlog::error("cannot load the model: {}", e.what());
      state = 2;
    }
  });

  int sig = 0;
  while (!sig && state != 2) sig = wait_signal(set, 200);
  if (state == 2) {
    loader.join();
    http.stop();
    return 1;
  }
  spdlog::info("{} received: draining (no new requests; up to {} s for the {} in flight)", strsignal(sig),
               o.drain_timeout_s, http.pending_responses());
  router.set_draining();
  http.stop_accepting();
  if (state == 0) {
    // Still loading: nothing to drain, and loading cannot be interrupted.
    http.stop();
    spdlog::info("stopped before the model finished loading");
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
  auto model = router.model();
  if (http.pending_responses() > 0) {
    spdlog::warn("drain: aborting {} unfinished responses", http.pending_responses());
    model->engine->abort_all();
    for (int i = 0; i < 100 && http.pending_responses() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http.stop();
  loader.join();
  // The engine finishes (and drops) every callback before the HTTP sessions they write to go away.
  model->engine->shutdown(false);
  spdlog::info("stopped");
  return 0;
}

}  // namespace r1::server
