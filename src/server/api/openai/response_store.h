#pragma once
// The responses kept for GET /v1/responses/{id} and previous_response_id: in memory only (gone on restart),
// at most `capacity` of them (the oldest is dropped first) and each for at most `ttl` after it completed.
// A response is stored when it completes, if its request said store (the default); one still being generated
// is not found yet. Thread-safe.
#include <chrono>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

namespace r1::server {

struct StoredResponse {
  nlohmann::json response;  // the Response object as returned
  nlohmann::json
      conversation;  // chat messages so far: earlier turns, this input, this answer (no instructions)
};

class ResponseStore {
 public:
  ResponseStore(size_t capacity, std::chrono::seconds ttl);
  void put(const std::string& id, StoredResponse r);
  std::optional<StoredResponse> get(const std::string& id);
  bool erase(const std::string& id);
  size_t size();

 private:
  void expire(std::chrono::steady_clock::time_point now);

  size_t capacity_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  struct Entry {
    StoredResponse r;
    std::chrono::steady_clock::time_point at;
  };
  std::unordered_map<std::string, Entry> by_id_;
  std::deque<std::string> order_;  // insertion order, oldest first (may hold erased ids)
};

}  // namespace r1::server
