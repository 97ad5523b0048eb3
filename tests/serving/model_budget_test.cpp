// The budget policy on plain data: LRU order, both limits, what is never evicted, and the refusals' words.
#include "serving/model_budget.h"

#include <gtest/gtest.h>

namespace r1::serving {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::vector<size_t> victims(const std::variant<std::vector<size_t>, ServingError>& v) {
  if (auto* e = std::get_if<ServingError>(&v)) ADD_FAILURE() << e->what();
  return std::get<std::vector<size_t>>(v);
}

TEST(ModelBudget, NothingToDoUnderTheLimits) {
  std::vector<ResidentModel> r = {{"a", 100, false, false, 0, Clock::now()}};
  EXPECT_TRUE(victims(choose_victims({}, r, "b", 100)).empty());
  EXPECT_TRUE(victims(choose_victims({2, 0}, r, "b", 100)).empty());
  EXPECT_TRUE(victims(choose_victims({0, 200}, r, "b", 100)).empty());
}

TEST(ModelBudget, LeastRecentlyUsedIdleFirstUntilItFits) {
  auto t = Clock::now();
  std::vector<ResidentModel> r = {{"new", 300, false, false, 0, t},
                                  {"old", 300, false, false, 0, t - 10s},
                                  {"busy", 300, false, false, 2, t - 20s},
                                  {"mid", 300, false, false, 0, t - 5s}};
  EXPECT_EQ(victims(choose_victims({3, 0}, r, "x", 1)), (std::vector<size_t>{1, 3}));
  EXPECT_EQ(victims(choose_victims({0, 1000}, r, "x", 300)), (std::vector<size_t>{1, 3}));
  EXPECT_EQ(victims(choose_victims({0, 1000}, r, "x", 100)), (std::vector<size_t>{1}));
}

TEST(ModelBudget, BusyLoadingAndPinnedModelsAreNeverEvicted) {
  auto t = Clock::now();
  std::vector<ResidentModel> r = {{"a", 100, false, false, 1, t - 9s},
                                  {"b", 100, true, false, 0, t - 8s},
                                  {"c", 100, false, true, 0, t - 7s}};
  auto v = choose_victims({3, 0}, r, "d", 100);
  ASSERT_TRUE(std::holds_alternative<ServingError>(v));
  const ServingError& e = std::get<ServingError>(v);
  EXPECT_EQ(e.code(), "model_budget_exceeded");
  EXPECT_EQ(e.retry_after(), 1);
  std::string w = e.what();
  EXPECT_NE(w.find("--max-loaded-models 3 is reached"), std::string::npos) << w;
  EXPECT_NE(w.find("`a` (1 in flight), `b` (loading), `c` (pinned)"), std::string::npos) << w;
}

TEST(ModelBudget, AModelLargerThanTheBudgetIsRefusedOutright) {
  auto v = choose_victims({0, 1'000'000}, {}, "huge", 2'000'000);
  ASSERT_TRUE(std::holds_alternative<ServingError>(v));
  EXPECT_FALSE(std::get<ServingError>(v).retry_after());  // waiting cannot help
  std::string w = std::get<ServingError>(v).what();
  EXPECT_NE(w.find("`huge` needs about 2.0 MB, more than --memory-budget 1.0 MB"), std::string::npos) << w;
}

}  // namespace
}  // namespace r1::serving
