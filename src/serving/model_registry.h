#pragma once
// The models this process serves, by name, and their lifecycle: each is loaded on demand (or at start with
// preload), kept while requests use it, unloaded after an idle time (--idle-unload, a request's keep_alive),
// and evicted least-recently-used first when loading another would exceed --max-loaded-models or
// --memory-budget. Thread-safe; loads and unloads run off the caller's thread.
//
// A model is handed out as a lease: a shared_ptr<ServedModel> whose last copy going away marks the model idle
// again. A model with a lease alive (a request in flight, a stream still writing) is never unloaded; a
// generation holds its lease until the engine has finished every one of its requests.
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serving/model_spec.h"
#include "serving/served_model.h"

namespace r1::serving {

struct RegistryOptions {
  std::optional<Millis> idle_unload = Millis(5 * 60 * 1000);  // nullopt: never (a model's spec may override)
  Millis load_wait{
      60'000};  // how long a request waits for a load before 503 model_not_ready; 0 = never waits
  size_t max_loaded_models = 0;  // 0 = no limit
  size_t memory_budget = 0;      // bytes of weights + KV cache over all loaded models; 0 = no limit
};

enum class ModelState { unloaded, loading, loaded, unloading };
const char* to_string(ModelState s);

// One model as /v1/models shows it.
struct ModelStatus {
  std::string name, dir;
  ModelState state = ModelState::unloaded;
  size_t bytes = 0;  // weights + KV cache: measured once loaded, else estimated from the files
  bool bytes_measured = false;
  std::optional<int64_t> expires_at;      // unix seconds of the idle unload (loaded, idle, with a keep-alive)
  std::optional<Millis> keep_alive;       // nullopt: never unloaded when idle
  size_t in_flight = 0;                   // leases out (requests using it)
  size_t max_model_len = 0;               // 0 until it has loaded once
  int64_t created = 0;                    // unix seconds of its latest load
  std::optional<std::string> last_error;  // why its latest load failed
  // Its generation_config.json sampling values and whether R1's reasoning split is on: known once it has
  // loaded (the chat page's settings start from them).
  std::optional<SamplingDefaults> sampling_defaults;
  bool reasoning = false;
};

// Lifecycle events, for metrics (the server's Prometheus exposition implements it).
class LifecycleSink {
 public:
  virtual ~LifecycleSink() = default;
  virtual void model_loaded(const std::string& model, double seconds, bool ok) = 0;
  virtual void model_unloaded(const std::string& model, const char* reason) = 0;  // "idle" | "evicted"
  // A request that found its model not loaded: how long it waited, and whether it got the model.
  virtual void load_waited(const std::string& model, double seconds, bool served) = 0;
};

class ModelRegistry {
 public:
  using Loader = std::function<std::unique_ptr<ServedModel>(const ModelSpec&)>;
  // Called once, with a lease on the model, or with the error that answers the request.
  using Ready = std::function<void(std::shared_ptr<ServedModel> lease, std::exception_ptr error)>;

  // `loader` defaults to ServedModel::load(spec.options); `sink` (may be null) must outlive the registry.
  // Nothing loads before start().
  ModelRegistry(std::vector<ModelSpec> specs, RegistryOptions options, Loader loader = {},
                LifecycleSink* sink = nullptr);
  // One model named `name` whose options are unknown: it can only be publish()ed (tests).
  explicit ModelRegistry(std::string name);
  ~ModelRegistry();  // shutdown()
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // Starts the preloads and the idle-unload clock; requests before it get 503 model_loading.
  void start();
  // A preload has not finished its first load (/health says 503 until then).
  bool starting() const;
  // The first preload that failed, if one did.
  std::optional<std::string> preload_error() const;

  // Serves `model` as the default model, loaded elsewhere (it is never unloaded when idle).
  void publish(std::shared_ptr<ServedModel> model);

  // A lease on the model a request names (the default one when it names none), without waiting. Throws
  // ServingError: not_found (param "model", code model_not_found) for an unknown name; unavailable (code
  // model_not_ready, with a retry-after) while it is not loaded — its load starts now; unavailable (code
  // model_budget_exceeded) when the budget leaves no room; model_loading before start().
  std::shared_ptr<ServedModel> get(const std::optional<std::string>& name = std::nullopt) const;
  // Calls `ready` with a lease as soon as the model is loaded (at once, on this thread, when it already is),
  // or with the error that answers the request: model_not_ready after --load-wait, model_load_failed
  // (internal, with the reason) when its load fails, or the refusals of get(). `keep_alive` (a request's
  // keep_alive field) replaces the model's idle time from now on. Never blocks.
  void when_ready(const std::optional<std::string>& name, std::optional<std::optional<Millis>> keep_alive,
                  Ready ready);

  std::vector<ModelStatus> status() const;
  std::optional<ModelStatus> status(const std::string& name) const;
  // Leases on every loaded model.
  std::vector<std::shared_ptr<ServedModel>> loaded() const;
  bool loading() const;  // some load is in progress
  const std::string& default_name() const { return default_name_; }
  bool serves(const std::string& name) const;

  // Aborts every request in every loaded engine (drain timeout).
  void abort_all();
  // Answers every request waiting for a load with 503 draining, and makes later ones get it at once.
  void drain();
  // Answers waiting requests (draining), waits for loads in progress, unloads every model.
  void shutdown();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
  std::string default_name_;
};

}  // namespace r1::serving
