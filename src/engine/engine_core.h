#pragma once
// The engine's single-threaded heart: owns the requests, the KV cache manager, the scheduler and the model
// runner, and turns one step() into the outputs to deliver. Engine wraps it with the loop thread and the
// thread-safe inbox; tests may drive it directly.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "engine/kv_cache_manager.h"
#include "engine/model_runner.h"
#include "engine/request.h"
#include "engine/scheduler.h"

namespace r1 {

class EngineCore {
 public:
  EngineCore(ModelExecutor& exec, size_t n_blocks, const EngineConfig& cfg);

  // Takes a validated request into the waiting queue.
  void add(std::unique_ptr<Request> r);
  // Finishes the request with reason abort (no-op for unknown ids); its final output comes with the next
  // step.
  void abort(const std::string& id);
  void abort_all();

  struct Delivery {
    Request* req;  // valid until release_finished()
    RequestOutput out;
  };
  // Schedules and runs one forward pass (if anything is runnable) and returns what each touched request has
  // to report: new tokens, and a final output for everything finished since the last step (aborts included).
  std::vector<Delivery> step();
  // Deletes the requests that step() reported finished.
  void release_finished();

  bool has_work() const { return scheduler_.has_work() || !finished_.empty(); }
  void fill_stats(EngineStats& s) const;
  // Steps that ran a batch so far.
  uint64_t steps() const { return steps_; }
  // The last step that ran a batch was pure decode: one token for every scheduled sequence, no prompt chunk.
  bool last_step_decode_only() const { return last_step_decode_only_; }
  const KvCacheManager& kv() const { return kv_; }
  const Scheduler& scheduler() const { return scheduler_; }

 private:
  RequestOutput make_output(Request& r, Clock::time_point now);
  void finish_now(Request* r, FinishReason reason, std::string error = {});

  KvCacheManager kv_;
  Scheduler scheduler_;
  ModelRunner runner_;
  std::unordered_map<std::string, std::unique_ptr<Request>> requests_;
  std::vector<Request*> finished_;  // finished, final output not yet delivered
  std::vector<Request*> reported_;  // final output delivered, to delete
  uint64_t steps_ = 0, finished_total_ = 0;
  bool last_step_decode_only_ = false;
};

}  // namespace r1
