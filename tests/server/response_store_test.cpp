// The Responses API's in-memory store: bounded by count (oldest out first) and by age.
#include "server/api/openai/response_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace r1::server {
namespace {

TEST(ResponseStore, KeepsAtMostCapacityDroppingTheOldest) {
  ResponseStore s(2, std::chrono::seconds(3600));
  for (const char* id : {"a", "b", "c"}) s.put(id, {{{"id", id}}, nlohmann::json::array()});
  EXPECT_FALSE(s.get("a"));
  EXPECT_EQ(s.get("b")->response["id"], "b");
  EXPECT_TRUE(s.get("c"));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_TRUE(s.erase("b"));
  EXPECT_FALSE(s.erase("b"));
  EXPECT_FALSE(s.get("b"));
}

TEST(ResponseStore, ForgetsAfterItsTimeToLive) {
  ResponseStore s(10, std::chrono::seconds(1));
  s.put("a", {{{"id", "a"}}, nlohmann::json::array()});
  EXPECT_TRUE(s.get("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_FALSE(s.get("a"));
}

}  // namespace
}  // namespace r1::server
