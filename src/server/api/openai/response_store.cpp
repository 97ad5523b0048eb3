#include "server/api/openai/response_store.h"

namespace r1::server {

using Clock = std::chrono::steady_clock;

ResponseStore::ResponseStore(size_t capacity, std::chrono::seconds ttl) : capacity_(capacity), ttl_(ttl) {}

void ResponseStore::expire(Clock::time_point now) {
  while (!order_.empty()) {
    auto it = by_id_.find(order_.front());
    if (it != by_id_.end() && now - it->second.at < ttl_ && by_id_.size() <= capacity_) break;
    if (it != by_id_.end()) by_id_.erase(it);
    order_.pop_front();
  }
}

void ResponseStore::put(const std::string& id, StoredResponse r) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  by_id_[id] = {std::move(r), now};
  order_.push_back(id);
  expire(now);
}

std::optional<StoredResponse> ResponseStore::get(const std::string& id) {
  std::lock_guard lock(mu_);
  expire(Clock::now());
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second.r;
}

bool ResponseStore::erase(const std::string& id) {
  std::lock_guard lock(mu_);
  return by_id_.erase(id) > 0;
}

size_t ResponseStore::size() {
  std::lock_guard lock(mu_);
  expire(Clock::now());
  return by_id_.size();
}

}  // namespace r1::server
