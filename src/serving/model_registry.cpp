#include "serving/model_registry.h"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <variant>

#include "engine/engine.h"
#include "serving/model_budget.h"
#include "serving/serving_error.h"

namespace r1::serving {

const char* to_string(ModelState s) {
  switch (s) {
    case ModelState::unloaded:
      return "unloaded";
    case ModelState::loading:
      return "loading";
    case ModelState::loaded:
      return "loaded";
    case ModelState::unloading:
      return "unloading";
  }
  return "unloaded";
}

namespace {
using Clock = std::chrono::steady_clock;
// How long a model loaded for a client told to retry waits for that retry, whatever its idle time.
constexpr Millis kRetryGrace{60'000};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Before a model's first load: its weight files plus an explicit KV budget. The measured size replaces it.
size_t estimate_bytes(const ModelSpec& s) {
  size_t total = 0;
  std::error_code ec;
  if (std::filesystem::is_regular_file(s.options.model_dir, ec))  // a GGUF file
    total += std::filesystem::file_size(s.options.model_dir, ec);
  for (const auto& f : std::filesystem::directory_iterator(s.options.model_dir, ec)) {
    std::string ext = f.path().extension().string();
    if (ext == ".safetensors" || ext == ".gguf" || ext == ".bin") total += f.file_size(ec);
  }
  if (!s.options.kv_cache_memory.empty()) {
    try {
      total += parse_byte_size(s.options.kv_cache_memory, "kv-cache-memory");
    } catch (const std::exception&) {
    }
  }
  return total;
}

// glibc keeps freed memory in its arenas; hand it back so an unload shows in the process's RSS.
void return_memory_to_os() {
  malloc_trim(0);
}

std::string mb(size_t bytes) {
  return fmt::format("{:.1f} MB", double(bytes) / 1e6);
}
}  // namespace

struct ModelRegistry::Core : std::enable_shared_from_this<Core> {
  struct Waiter {
    Clock::time_point since, deadline;
    Ready ready;
  };
  struct Entry {
    ModelSpec spec;
    ModelState state = ModelState::unloaded;
    std::unique_ptr<ServedModel> model;
    std::shared_ptr<ServedModel> published;  // publish(): owned elsewhere, never unloaded
    size_t active = 0;
    Clock::time_point last_used{}, load_started{};
    std::optional<std::optional<Millis>> request_keep_alive;
    size_t bytes = 0;
    bool measured = false, preload_pending = false;
    // A client was answered "not ready, retry" and has not come back since: the model waits for it (below).
    bool retry_pending = false;
    // Its latest load failed while a client told to retry (get()) was away: that client's retry gets the
    // failure instead of starting another load, so it learns why (Bedrock's ModelErrorException) rather than
    // being told "not ready" until its retries run out.
    bool failure_unreported = false;
    double last_load_s = -1;
    size_t max_model_len = 0;
    int64_t created = 0;
    std::optional<SamplingDefaults> sampling_defaults;  // kept after an unload: the files do not change
    bool reasoning = false;
    std::optional<std::string> last_error;
    // Why the budget keeps its waiters from loading it (retried whenever a model goes idle).
    std::optional<ServingError> budget_refusal;
    std::vector<Waiter> waiters;
  };

  RegistryOptions opt;
  Loader loader;
  LifecycleSink* sink = nullptr;
  std::vector<std::unique_ptr<Entry>> entries;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool started = false, stopping = false;
  int loads_running = 0;
  std::optional<std::string> preload_error;
  std::thread housekeeper;

  Entry* find(const std::optional<std::string>& name) {
    if (!name) return entries.front().get();
    for (auto& e : entries)
      if (e->spec.name == *name) return e.get();
    return nullptr;
  }

  std::string names() const {
    std::string s;
    for (const auto& e : entries) s += (s.empty() ? "`" : ", `") + e->spec.name + "`";
    return s;
  }

  std::optional<Millis> keep_alive(const Entry& e) const {
    if (e.published) return std::nullopt;
    if (e.request_keep_alive) return *e.request_keep_alive;
    if (e.spec.idle_unload) return *e.spec.idle_unload;
    return opt.idle_unload;
  }

  // When an idle loaded model unloads. One loaded for a client that was told to retry (Bedrock's
  // ModelNotReadyException, a --load-wait that ran out) waits for that retry whatever its idle time: with a
  // short one it would be gone again before the retry (an SDK backs off for up to 20 s), and every retry
  // would start a new load.
  static Clock::time_point idle_expiry(const Entry& e, Millis keep) {
    auto at = e.last_used + keep;
    return e.retry_pending ? std::max(at, e.last_used + kRetryGrace) : at;
  }

  // Under mu. The lease's deleter marks the model idle again.
  std::shared_ptr<ServedModel> lease(Entry& e) {
    ++e.active;
    e.retry_pending = false;
    ServedModel* raw = e.published ? e.published.get() : e.model.get();
    auto self = shared_from_this();
    auto keep = e.published;  // a published model is owned by the registry and every lease
    return std::shared_ptr<ServedModel>(raw, [self, &e, keep](ServedModel*) { self->release(e); });
  }

  void release(Entry& e) {
    std::lock_guard lock(mu);
    --e.active;
    e.last_used = Clock::now();
    cv.notify_all();
  }

  // Under mu. Answers "retry later" — and so keeps the model, once loaded, for the retry (kRetryGrace).
  ServingError not_ready(Entry& e) {
    e.retry_pending = true;
    double elapsed = std::chrono::duration<double>(Clock::now() - e.load_started).count();
    int retry = 1;
    std::string detail;
    if (e.state == ModelState::loading) {
      detail = fmt::format("; loading for {:.1f} s", elapsed);
      if (e.last_load_s > 0) {
        detail += fmt::format(", its last load took {:.1f} s", e.last_load_s);
        retry = std::max(1, int(std::ceil(e.last_load_s - elapsed)));
      }
    } else if (e.state == ModelState::unloading) {
      detail = "; it is being unloaded and loads again next";
    }
    ServingError err(ErrorKind::unavailable,
                     fmt::format("The model `{}` is not loaded yet{} (--load-wait {} s). Retry after {} s.",
                                 e.spec.name, detail, double(opt.load_wait.count()) / 1000, retry),
                     std::nullopt, "model_not_ready");
    err.set_retry_after(retry);
    return err;
  }

  static ServingError load_failed(const Entry& e) {
    return ServingError(ErrorKind::internal,
                        fmt::format("The model `{}` could not be loaded: {}", e.spec.name,
                                    e.last_error.value_or("unknown error")),
                        std::nullopt, "model_load_failed");
  }

  using Evicted = std::vector<std::pair<Entry*, std::unique_ptr<ServedModel>>>;

  // Under mu: the idle models (least recently used first) to unload so that `e`, of `need` bytes, fits the
  // budgets beside the other loaded and loading models; or the refusal that says why it cannot.
  std::variant<std::vector<Entry*>, ServingError> choose_victims(const Entry& e, size_t need) {
    std::vector<ResidentModel> resident;
    std::vector<Entry*> of;
    for (auto& x : entries) {
      if (x.get() == &e || (x->state != ModelState::loaded && x->state != ModelState::loading)) continue;
      resident.push_back({x->spec.name, x->bytes, x->state == ModelState::loading, x->published != nullptr,
                          x->active, x->last_used});
      of.push_back(x.get());
    }
    auto chosen =
        serving::choose_victims({opt.max_loaded_models, opt.memory_budget}, resident, e.spec.name, need);
    if (auto* err = std::get_if<ServingError>(&chosen)) return *err;
    std::vector<Entry*> victims;
    for (size_t i : std::get<std::vector<size_t>>(chosen)) victims.push_back(of[i]);
    return victims;
  }

  // Under mu: marks the victims unloading and takes their models (freed off mu by unload()).
  Evicted evict(const std::vector<Entry*>& victims, const Entry& e) {
    Evicted out;
    for (Entry* v : victims) {
      v->state = ModelState::unloading;
      v->request_keep_alive.reset();  // a keep_alive lasts until the model's next unload
      out.emplace_back(v, std::move(v->model));
      spdlog::info("evicting idle model `{}` ({}) to make room for `{}`", v->spec.name, mb(v->bytes),
                   e.spec.name);
    }
    return out;
  }

  // Under mu, e unloaded: evicts what the budgets need (LRU idle models) and starts the load on its own
  // thread. Returns the refusal when nothing (or not enough) can be evicted.
  std::optional<ServingError> start_load(Entry& e) {
    size_t need = e.measured ? e.bytes : estimate_bytes(e.spec);
    if (!e.measured) e.bytes = need;
    auto chosen = choose_victims(e, need);
    if (auto* err = std::get_if<ServingError>(&chosen)) return *err;
    Evicted evicted = evict(std::get<std::vector<Entry*>>(chosen), e);
    e.state = ModelState::loading;
    e.failure_unreported = false;
    e.load_started = Clock::now();
    ++loads_running;
    std::thread([self = shared_from_this(), &e, evicted = std::move(evicted)]() mutable {
      self->unload(evicted, "evicted");
      self->load(e);
    }).detach();
    return std::nullopt;
  }

  // Off mu: frees the models, then marks them unloaded and starts the load of any that was asked for since.
  void unload(Evicted& models, const char* reason) {
    if (models.empty()) return;
    for (auto& [e, m] : models) {
      m.reset();  // the engine stops, its thread pool joins, weights and KV cache go
      if (sink) sink->model_unloaded(e->spec.name, reason);
    }
    return_memory_to_os();
    std::lock_guard lock(mu);
    for (auto& [e, m] : models) {
      e->state = ModelState::unloaded;
      spdlog::info("model `{}` unloaded ({})", e->spec.name, reason);
      // Asked for while it was going: load it again (or wait, under the budget, for room).
      if (!e->waiters.empty() && !stopping) e->budget_refusal = start_load(*e);
    }
    cv.notify_all();
  }

  void load(Entry& e) {
    std::unique_ptr<ServedModel> m;
    std::string error;
    auto t0 = Clock::now();
    try {
      m = loader ? loader(e.spec) : ServedModel::load(e.spec.options);
    } catch (const std::exception& ex) {
      error = ex.what();
    } catch (...) {
      error = "an unknown error while loading";
    }
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (sink) sink->model_loaded(e.spec.name, seconds, m != nullptr);
    std::vector<std::pair<Waiter, std::shared_ptr<ServedModel>>> served;
    std::vector<Waiter> failed;
    std::optional<ServingError> failure;
    Evicted evicted;
    {
      std::lock_guard lock(mu);
      e.preload_pending = false;
      if (m) {
        e.model = std::move(m);
        e.state = ModelState::loaded;
        e.bytes = e.model->bytes;
        e.measured = true;
        e.last_load_s = seconds;
        e.last_error.reset();
        e.max_model_len = e.model->engine ? e.model->engine->max_model_len() : 0;
        e.created = unix_now();
        e.sampling_defaults = e.model->sampling_defaults;
        e.reasoning = e.model->reasoning;
        e.last_used = Clock::now();
        for (auto& w : e.waiters) served.emplace_back(std::move(w), lease(e));
        // Its size was an estimate before this first load: evict what the measured size needs.
        auto chosen = choose_victims(e, e.bytes);
        if (auto* v = std::get_if<std::vector<Entry*>>(&chosen))
          evicted = evict(*v, e);
        else
          spdlog::warn("model `{}` loaded past the budget: {}", e.spec.name,
                       std::get<ServingError>(chosen).what());
      } else {
        e.state = ModelState::unloaded;
        e.last_error = error;
        if (e.spec.preload && !preload_error)
          preload_error = fmt::format("model `{}`: {}", e.spec.name, error);
        spdlog::error("cannot load the model `{}`: {}", e.spec.name, error);
        failure = load_failed(e);
        failed = std::move(e.waiters);
        e.failure_unreported = e.retry_pending;
        e.retry_pending = false;
      }
      e.waiters.clear();
      --loads_running;
      cv.notify_all();
    }
    auto now = Clock::now();
    for (auto& [w, l] : served) {
      if (sink) sink->load_waited(e.spec.name, std::chrono::duration<double>(now - w.since).count(), true);
      w.ready(std::move(l), nullptr);
    }
    for (auto& w : failed) {
      if (sink) sink->load_waited(e.spec.name, std::chrono::duration<double>(now - w.since).count(), false);
      w.ready(nullptr, std::make_exception_ptr(*failure));
    }
    unload(evicted, "evicted");
  }

  // The idle-unload clock and the --load-wait deadlines.
  void housekeep() {
    std::unique_lock lock(mu);
    while (!stopping) {
      auto now = Clock::now();
      auto next = now + std::chrono::hours(1);
      struct TimedOut {
        std::string model;
        Waiter waiter;
        ServingError error;
      };
      std::vector<TimedOut> timed_out;
      Evicted idle;
      for (auto& e : entries)
        if (e->state == ModelState::unloaded && !e->waiters.empty() && e->budget_refusal)
          e->budget_refusal = start_load(*e);  // a lease came back since: maybe something is idle now
      for (auto& e : entries) {
        for (size_t i = 0; i < e->waiters.size();) {
          if (e->waiters[i].deadline <= now) {
            timed_out.push_back(
                {e->spec.name, std::move(e->waiters[i]),
                 e->state == ModelState::unloaded && e->budget_refusal ? *e->budget_refusal : not_ready(*e)});
            e->waiters.erase(e->waiters.begin() + long(i));
          } else {
            next = std::min(next, e->waiters[i].deadline);
            ++i;
          }
        }
        auto keep = keep_alive(*e);
        if (e->state == ModelState::loaded && e->active == 0 && keep) {
          auto expiry = idle_expiry(*e, *keep);
          if (expiry <= now) {
            e->state = ModelState::unloading;
            e->request_keep_alive.reset();  // Ollama: a keep_alive lasts until the unload it asked for
            idle.emplace_back(e.get(), std::move(e->model));
          } else {
            next = std::min(next, expiry);
          }
        }
      }
      if (timed_out.empty() && idle.empty()) {
        cv.wait_until(lock, next);
        continue;
      }
      lock.unlock();
      for (auto& t : timed_out) {
        if (sink)
          sink->load_waited(t.model, std::chrono::duration<double>(now - t.waiter.since).count(), false);
        t.waiter.ready(nullptr, std::make_exception_ptr(t.error));
      }
      unload(idle, "idle");
      lock.lock();
    }
  }
};

ModelRegistry::ModelRegistry(std::vector<ModelSpec> specs, RegistryOptions options, Loader loader,
                             LifecycleSink* sink)
    : core_(std::make_shared<Core>()) {
  if (specs.empty()) fail("no model to serve (pass --model)");
  for (size_t i = 0; i < specs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (specs[i].name == specs[j].name)
        fail("--model: the name `{}` is given twice (each model needs its own NAME)", specs[i].name);
  default_name_ = specs.front().name;
  core_->opt = options;
  core_->loader = std::move(loader);
  core_->sink = sink;
  for (auto& s : specs) {
    auto e = std::make_unique<Core::Entry>();
    e->preload_pending = s.preload;
    e->bytes = estimate_bytes(s);
    e->spec = std::move(s);
    core_->entries.push_back(std::move(e));
  }
}

ModelRegistry::ModelRegistry(std::string name)
    : ModelRegistry({ModelSpec{name, {}, std::nullopt, true}}, RegistryOptions{}) {}

ModelRegistry::~ModelRegistry() {
  shutdown();
}

void ModelRegistry::start() {
  std::vector<std::pair<Core::Waiter, ServingError>> refused;
  {
    std::lock_guard lock(core_->mu);
    if (core_->started) return;
    core_->started = true;
    for (auto& e : core_->entries)
      if (e->spec.preload && e->state == ModelState::unloaded && !e->published)
        if (auto err = core_->start_load(*e)) {
          e->preload_pending = false;
          if (!core_->preload_error)
            core_->preload_error = fmt::format("model `{}`: {}", e->spec.name, err->what());
        }
    core_->housekeeper = std::thread([c = core_.get()] { c->housekeep(); });
  }
}

bool ModelRegistry::starting() const {
  std::lock_guard lock(core_->mu);
  for (auto& e : core_->entries)
    if (e->preload_pending) return true;
  return false;
}

std::optional<std::string> ModelRegistry::preload_error() const {
  std::lock_guard lock(core_->mu);
  return core_->preload_error;
}

bool ModelRegistry::serves(const std::string& name) const {
  std::lock_guard lock(core_->mu);
  return core_->find(name) != nullptr;
}

void ModelRegistry::publish(std::shared_ptr<ServedModel> model) {
  std::lock_guard lock(core_->mu);
  Core::Entry& e = *core_->entries.front();
  e.bytes = model->bytes;
  e.measured = true;
  e.max_model_len = model->engine ? model->engine->max_model_len() : 0;
  e.created = model->created;
  e.sampling_defaults = model->sampling_defaults;
  e.reasoning = model->reasoning;
  e.published = std::move(model);
  e.state = ModelState::loaded;
  e.preload_pending = false;
  core_->cv.notify_all();
}

namespace {
ServingError unknown_model(const std::string& name, const std::string& names) {
  return ServingError(ErrorKind::not_found,
                      fmt::format("The model `{}` does not exist. This server serves {}.", name, names),
                      "model", "model_not_found");
}
ServingError draining_error() {
  return ServingError(ErrorKind::unavailable, "the server is shutting down", std::nullopt, "draining");
}
ServingError not_started() {
  ServingError e(ErrorKind::unavailable, "the model is still loading; retry when GET /health answers 200",
                 std::nullopt, "model_loading");
  e.set_retry_after(1);
  return e;
}
}  // namespace

std::shared_ptr<ServedModel> ModelRegistry::get(const std::optional<std::string>& name) const {
  Core& c = *core_;
  std::lock_guard lock(c.mu);
  Core::Entry* e = c.find(name);
  if (!e) throw unknown_model(*name, c.names());
  if (e->state == ModelState::loaded) return c.lease(*e);
  if (c.stopping) throw draining_error();
  if (!c.started) throw not_started();
  if (e->state == ModelState::unloaded && e->failure_unreported) {
    e->failure_unreported = false;  // the next request tries the load again (the files may be fixed)
    throw Core::load_failed(*e);
  }
  if (e->state == ModelState::unloaded)
    if (auto err = c.start_load(*e)) throw *err;
  throw c.not_ready(*e);
}

void ModelRegistry::when_ready(const std::optional<std::string>& name,
                               std::optional<std::optional<Millis>> keep_alive, Ready ready) {
  Core& c = *core_;
  std::shared_ptr<ServedModel> lease;
  {
    std::lock_guard lock(c.mu);
    Core::Entry* e = c.find(name);
    if (!e) throw unknown_model(*name, c.names());
    if (keep_alive) e->request_keep_alive = *keep_alive;
    if (e->state == ModelState::loaded) {
      lease = c.lease(*e);
    } else {
      if (c.stopping) throw draining_error();
      if (!c.started) throw not_started();
      auto now = Clock::now();
      if (e->state == ModelState::unloaded) {
        e->budget_refusal = c.start_load(*e);
        // With no wait, the budget's refusal is the answer; else the request waits for a model to go idle.
        // (A model larger than the whole budget is refused at once too: no waiting makes room for it.)
        if (e->budget_refusal && (c.opt.load_wait.count() <= 0 || !e->budget_refusal->retry_after()))
          throw *e->budget_refusal;
      }
      if (c.opt.load_wait.count() <= 0) throw c.not_ready(*e);
      e->waiters.push_back({now, now + c.opt.load_wait, std::move(ready)});
      c.cv.notify_all();
      return;
    }
  }
  ready(std::move(lease), nullptr);
}

std::vector<ModelStatus> ModelRegistry::status() const {
  Core& c = *core_;
  std::lock_guard lock(c.mu);
  std::vector<ModelStatus> out;
  auto steady_now = Clock::now();
  int64_t now = unix_now();
  for (const auto& e : c.entries) {
    ModelStatus s;
    s.name = e->spec.name;
    s.dir = e->spec.options.model_dir;
    s.state = e->state;
    s.bytes = e->bytes;  // measured, or the estimate made at start (no file system walk under the lock)
    s.bytes_measured = e->measured;
    s.keep_alive = c.keep_alive(*e);
    s.in_flight = e->active;
    s.max_model_len = e->max_model_len;
    s.created = e->created;
    s.last_error = e->last_error;
    s.sampling_defaults = e->sampling_defaults;
    s.reasoning = e->reasoning;
    if (e->state == ModelState::loaded && e->active == 0 && s.keep_alive) {
      auto left =
          std::chrono::duration_cast<std::chrono::seconds>(Core::idle_expiry(*e, *s.keep_alive) - steady_now);
      s.expires_at = now + std::max<int64_t>(0, left.count());
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<ModelStatus> ModelRegistry::status(const std::string& name) const {
  for (auto& s : status())
    if (s.name == name) return s;
  return std::nullopt;
}

std::vector<std::shared_ptr<ServedModel>> ModelRegistry::loaded() const {
  Core& c = *core_;
  std::lock_guard lock(c.mu);
  std::vector<std::shared_ptr<ServedModel>> out;
  for (auto& e : c.entries)
    if (e->state == ModelState::loaded) out.push_back(c.lease(*e));
  return out;
}

bool ModelRegistry::loading() const {
  std::lock_guard lock(core_->mu);
  return core_->loads_running > 0;
}

void ModelRegistry::abort_all() {
  for (auto& m : loaded())
    if (m->engine) m->engine->abort_all();
}

void ModelRegistry::drain() {
  Core& c = *core_;
  std::vector<Core::Waiter> waiting;
  {
    std::lock_guard lock(c.mu);
    c.stopping = true;
    for (auto& e : c.entries) {
      for (auto& w : e->waiters) waiting.push_back(std::move(w));
      e->waiters.clear();
    }
    c.cv.notify_all();
  }
  for (auto& w : waiting) w.ready(nullptr, std::make_exception_ptr(draining_error()));
}

void ModelRegistry::shutdown() {
  Core& c = *core_;
  {
    std::lock_guard lock(c.mu);
    if (c.stopping && !c.housekeeper.joinable()) return;  // done before (or never started)
  }
  drain();
  if (c.housekeeper.joinable()) c.housekeeper.join();
  std::unique_lock lock(c.mu);
  c.cv.wait(lock, [&] { return c.loads_running == 0; });
  std::vector<std::unique_ptr<ServedModel>> models;
  for (auto& e : c.entries)
    if (e->model) {
      models.push_back(std::move(e->model));
      e->state = ModelState::unloaded;
    }
  lock.unlock();
  models.clear();  // each engine's shutdown aborts what is left
}

}  // namespace r1::serving
