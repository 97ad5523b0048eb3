#pragma once
// The memory budget as a plain-data policy (--max-loaded-models, --memory-budget): which idle models to
// unload, least recently used first, so that one more fits — or why nothing can make room. The registry gives
// it a snapshot of the resident models; no locks, no threads, so it is tested on its own.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "serving/serving_error.h"

namespace r1::serving {

struct BudgetLimits {
  size_t max_loaded_models = 0;  // 0 = no limit
  size_t memory_budget = 0;      // bytes; 0 = no limit
};

// One model that holds memory now (loaded, or loading).
struct ResidentModel {
  std::string name;
  size_t bytes = 0;
  bool loading = false, pinned = false;
  size_t in_flight = 0;
  std::chrono::steady_clock::time_point last_used{};
  bool evictable() const { return !loading && !pinned && in_flight == 0; }
};

// The indexes into `resident` to unload (least recently used idle ones first) so that `model`, of `need`
// bytes, fits beside the rest; or the refusal (unavailable, code model_budget_exceeded, Retry-After 1 when
// waiting can help) naming the limit and the busy models.
std::variant<std::vector<size_t>, ServingError> choose_victims(const BudgetLimits& limits,
                                                               const std::vector<ResidentModel>& resident,
                                                               const std::string& model, size_t need);

}  // namespace r1::serving
