#include "serving/model_budget.h"

#include <fmt/format.h>

#include <algorithm>

namespace r1::serving {

namespace {
std::string mb(size_t bytes) {
  return fmt::format("{:.1f} MB", double(bytes) / 1e6);
}
}  // namespace

std::variant<std::vector<size_t>, ServingError> choose_victims(const BudgetLimits& limits,
                                                               const std::vector<ResidentModel>& resident,
                                                               const std::string& model, size_t need) {
  if (limits.memory_budget && need > limits.memory_budget)
    return ServingError(ErrorKind::unavailable,
                        fmt::format("The model `{}` needs about {}, more than --memory-budget {} allows even "
                                    "with every other model unloaded.",
                                    model, mb(need), mb(limits.memory_budget)),
                        std::nullopt, "model_budget_exceeded");
  size_t count = resident.size(), bytes = 0;
  std::vector<size_t> idle;
  std::string busy;
  for (size_t i = 0; i < resident.size(); ++i) {
    const ResidentModel& r = resident[i];
    bytes += r.bytes;
    if (r.evictable())
      idle.push_back(i);
    else
      busy += fmt::format("{}`{}` ({})", busy.empty() ? "" : ", ", r.name,
                          r.loading  ? std::string("loading")
                          : r.pinned ? std::string("pinned")
                                     : fmt::format("{} in flight", r.in_flight));
  }
  std::sort(idle.begin(), idle.end(),
            [&](size_t a, size_t b) { return resident[a].last_used < resident[b].last_used; });
  auto over_count = [&] { return limits.max_loaded_models && count + 1 > limits.max_loaded_models; };
  auto over_bytes = [&] { return limits.memory_budget && bytes + need > limits.memory_budget; };
  std::vector<size_t> victims;
  while (over_count() || over_bytes()) {
    if (victims.size() == idle.size()) {
      std::string limit =
          over_count()
              ? fmt::format("--max-loaded-models {} is reached", limits.max_loaded_models)
              : fmt::format("--memory-budget {} leaves {} free and it needs about {}",
                            mb(limits.memory_budget),
                            mb(limits.memory_budget > bytes ? limits.memory_budget - bytes : 0), mb(need));
      ServingError err(
          ErrorKind::unavailable,
          fmt::format("Cannot load the model `{}` now: {} and no loaded model is idle ({}). Retry "
                      "when a request finishes.",
                      model, limit, busy),
          std::nullopt, "model_budget_exceeded");
      err.set_retry_after(1);
      return err;
    }
    size_t v = idle[victims.size()];
    victims.push_back(v);
    --count;
    bytes -= std::min(bytes, resident[v].bytes);
  }
  return victims;
}

}  // namespace r1::serving
