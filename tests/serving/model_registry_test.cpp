// The model lifecycle with a stand-in loader (a ServedModel with a size and no engine), so every timing and
// budget rule runs in milliseconds: load on demand, waiters answered by the load, its failure or --load-wait,
// leases that keep a model loaded, idle unload, keep_alive, LRU eviction under both budgets.
#include "serving/model_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "serving/serving_error.h"

namespace r1::serving {
namespace {

using namespace std::chrono_literals;

// A loader that records its calls, can be held (to observe a load in progress) and can be told to fail.
struct FakeLoader {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  std::atomic<int> loads{0};
  std::atomic<bool> fail{false};
  size_t bytes = 100;

  ModelRegistry::Loader fn() {
    return [this](const ModelSpec& s) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !hold; });
      ++loads;
      if (fail) throw std::runtime_error(s.options.model_dir + ": no such folder");
      auto m = std::make_unique<ServedModel>();
      m->name = s.name;
      m->bytes = bytes;
      return m;
    };
  }
  void release() {
    std::lock_guard lock(mu);
    hold = false;
    cv.notify_all();
  }
};

ModelSpec spec(const std::string& name) {
  ModelSpec s;
  s.name = name;
  s.options.model_dir = "/nonexistent/" + name;
  return s;
}

// Polls (bounded) until `pred` holds.
template <typename P>
bool eventually(P pred, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

ModelState state(const ModelRegistry& r, const std::string& name) {
  return r.status(name)->state;
}

// Waits for when_ready's answer.
struct Answer {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::shared_ptr<ServedModel> lease;
  std::optional<ServingError> error;
  ModelRegistry::Ready ready() {
    return [this](std::shared_ptr<ServedModel> l, std::exception_ptr e) {
      std::lock_guard lock(mu);
      lease = std::move(l);
      if (e) try {
          std::rethrow_exception(e);
        } catch (const ServingError& se) {
          error = se;
        }
      done = true;
      cv.notify_all();
    };
  }
  bool wait(std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return done; });
  }
};

TEST(ModelRegistry, LoadsOnDemandAndAnswersEveryWaiter) {
  FakeLoader f;
  f.hold = true;
  RegistryOptions o;
  o.load_wait = 5s;
  ModelRegistry r({spec("a"), spec("b")}, o, f.fn());
  EXPECT_THROW(r.get("a"), ServingError);  // before start(): model_loading
  r.start();
  EXPECT_FALSE(r.starting());
  EXPECT_EQ(state(r, "a"), ModelState::unloaded);
  std::vector<std::unique_ptr<Answer>> answers;
  for (int i = 0; i < 16; ++i) {
    answers.push_back(std::make_unique<Answer>());
    r.when_ready("a", std::nullopt, answers.back()->ready());
  }
  EXPECT_EQ(state(r, "a"), ModelState::loading);
  EXPECT_EQ(state(r, "b"), ModelState::unloaded);
  f.release();
  for (auto& a : answers) {
    ASSERT_TRUE(a->wait());
    ASSERT_TRUE(a->lease) << (a->error ? a->error->what() : "");
    EXPECT_EQ(a->lease->name, "a");
  }
  EXPECT_EQ(f.loads, 1);  // one load for all sixteen
  EXPECT_EQ(r.status("a")->in_flight, 16u);
  answers.clear();
  EXPECT_EQ(r.status("a")->in_flight, 0u);
  EXPECT_EQ(r.status("a")->bytes, 100u);
  EXPECT_TRUE(r.status("a")->bytes_measured);
}

TEST(ModelRegistry, LoadWaitZeroAnswersAtOnceWithRetryAfter) {
  FakeLoader f;
  f.hold = true;
  RegistryOptions o;
  o.load_wait = 0ms;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  try {
    r.when_ready("a", std::nullopt, [](auto, auto) { ADD_FAILURE() << "must not be called"; });
    FAIL() << "no refusal";
  } catch (const ServingError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unavailable);
    EXPECT_EQ(e.code(), "model_not_ready");
    ASSERT_TRUE(e.retry_after());
    EXPECT_GE(*e.retry_after(), 1);
  }
  EXPECT_EQ(state(r, "a"), ModelState::loading);  // the refused request started the load
  f.release();
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::loaded; }));
  EXPECT_EQ(r.get("a")->name, "a");
}

// Bedrock's way (--load-wait 0, the client retries with backoff) with "unload as soon as idle": the model
// that the refused request started loading waits for the retry instead of unloading before it arrives, then
// unloads as soon as the retry is done.
TEST(ModelRegistry, ALoadForAClientToldToRetryWaitsForTheRetry) {
  FakeLoader f;
  RegistryOptions o;
  o.load_wait = 0ms;
  o.idle_unload = 0ms;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  EXPECT_THROW(r.get("a"), ServingError);  // not ready: the load starts
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::loaded; }));
  std::this_thread::sleep_for(100ms);  // idle past its idle time of 0
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
  ASSERT_TRUE(r.status("a")->expires_at);  // /v1/models shows when it goes if the retry never comes
  EXPECT_EQ(r.get("a")->name, "a");        // the retry, served (its lease released at once)
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::unloaded; }));
  EXPECT_EQ(f.loads, 1);
}

TEST(ModelRegistry, BoundedWaitGetsModelNotReady) {
  FakeLoader f;
  f.hold = true;
  RegistryOptions o;
  o.load_wait = 50ms;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  Answer a;
  r.when_ready("a", std::nullopt, a.ready());
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->code(), "model_not_ready");
  EXPECT_NE(std::string(a.error->what()).find("loading for"), std::string::npos) << a.error->what();
  f.release();
}

TEST(ModelRegistry, FailedLoadAnswersWaitersAndIsRetriedOnTheNextRequestOnly) {
  FakeLoader f;
  f.fail = true;
  RegistryOptions o;
  o.load_wait = 5s;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  Answer a, b;
  f.hold = true;
  r.when_ready("a", std::nullopt, a.ready());
  r.when_ready("a", std::nullopt, b.ready());
  f.release();
  for (Answer* x : {&a, &b}) {
    ASSERT_TRUE(x->wait());
    ASSERT_TRUE(x->error);
    EXPECT_EQ(x->error->kind(), ErrorKind::internal);
    EXPECT_EQ(x->error->code(), "model_load_failed");
    EXPECT_NE(std::string(x->error->what()).find("no such folder"), std::string::npos);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(f.loads, 1);  // not retried in a loop
  EXPECT_EQ(state(r, "a"), ModelState::unloaded);
  EXPECT_NE(r.status("a")->last_error->find("no such folder"), std::string::npos);
  f.fail = false;
  Answer c;
  r.when_ready("a", std::nullopt, c.ready());
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(c.lease);
  EXPECT_EQ(f.loads, 2);
  EXPECT_FALSE(r.status("a")->last_error);
}

// A client told "not ready, retry" (get(), Bedrock's ModelNotReadyException) whose load then fails learns
// the failure on its retry — once; the request after that tries the load again.
TEST(ModelRegistry, AFailedLoadIsReportedToTheRetryOfTheClientToldToRetry) {
  FakeLoader f;
  f.fail = true;
  ModelRegistry r({spec("a")}, {}, f.fn());
  r.start();
  auto code_of = [&] {
    try {
      r.get("a");
    } catch (const ServingError& e) {
      return e.code().value_or("");
    }
    return std::string("served");
  };
  EXPECT_EQ(code_of(), "model_not_ready");  // the load starts
  ASSERT_TRUE(eventually([&] { return f.loads == 1 && state(r, "a") == ModelState::unloaded; }));
  try {
    r.get("a");
    ADD_FAILURE() << "served a model that failed to load";
  } catch (const ServingError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::internal);
    EXPECT_EQ(e.code(), "model_load_failed");
    EXPECT_NE(std::string(e.what()).find("no such folder"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.loads, 1);
  f.fail = false;
  EXPECT_EQ(code_of(), "model_not_ready");  // loads again
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::loaded; }));
  EXPECT_EQ(code_of(), "served");
  EXPECT_EQ(f.loads, 2);
}

TEST(ModelRegistry, IdleUnloadNeverWhileLeased) {
  FakeLoader f;
  RegistryOptions o;
  o.idle_unload = 30ms;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  Answer a;
  r.when_ready("a", std::nullopt, a.ready());
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(a.lease);
  std::this_thread::sleep_for(150ms);  // five idle times with a request in flight
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
  EXPECT_FALSE(r.status("a")->expires_at);  // in use: no expiry
  a.lease.reset();
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::unloaded; }));
}

TEST(ModelRegistry, KeepAliveOfARequestAndPerModelNever) {
  FakeLoader f;
  RegistryOptions o;
  o.idle_unload = 20ms;
  ModelSpec pinned = spec("pinned");
  pinned.idle_unload = std::optional<Millis>();  // never
  ModelRegistry r({spec("a"), pinned}, o, f.fn());
  r.start();
  Answer a, p;
  r.when_ready("a", std::optional<Millis>(), a.ready());  // keep_alive -1: keep
  r.when_ready("pinned", std::nullopt, p.ready());
  ASSERT_TRUE(a.wait() && p.wait());
  a.lease.reset();
  p.lease.reset();
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
  EXPECT_EQ(state(r, "pinned"), ModelState::loaded);
  EXPECT_EQ(r.status("a")->keep_alive, std::nullopt);
  // keep_alive 0 on the next request: unloaded once it is done.
  Answer z;
  r.when_ready("a", std::optional<Millis>(0ms), z.ready());
  ASSERT_TRUE(z.wait());
  z.lease.reset();
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::unloaded; }));
  EXPECT_EQ(state(r, "pinned"), ModelState::loaded);
}

TEST(ModelRegistry, MaxLoadedModelsEvictsTheLeastRecentlyUsedIdleOne) {
  FakeLoader f;
  RegistryOptions o;
  o.max_loaded_models = 2;
  o.load_wait = 300ms;
  ModelRegistry r({spec("a"), spec("b"), spec("c")}, o, f.fn());
  r.start();
  for (const char* n : {"a", "b"}) {
    Answer x;
    r.when_ready(n, std::nullopt, x.ready());
    ASSERT_TRUE(x.wait() && x.lease);
    std::this_thread::sleep_for(5ms);
  }
  {
    Answer again;  // a becomes the most recently used
    r.when_ready("a", std::nullopt, again.ready());
    ASSERT_TRUE(again.wait() && again.lease);
  }
  Answer c;
  r.when_ready("c", std::nullopt, c.ready());
  ASSERT_TRUE(c.wait() && c.lease) << (c.error ? c.error->what() : "");
  EXPECT_EQ(state(r, "b"), ModelState::unloaded);
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
  // Both loaded models busy: a third waits for one to go idle, up to --load-wait, then is refused saying why.
  Answer a;
  r.when_ready("a", std::nullopt, a.ready());
  ASSERT_TRUE(a.wait() && a.lease);
  Answer refused;
  r.when_ready("b", std::nullopt, refused.ready());
  ASSERT_TRUE(refused.wait());
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->kind(), ErrorKind::unavailable);
  EXPECT_EQ(refused.error->code(), "model_budget_exceeded");
  std::string w = refused.error->what();
  EXPECT_NE(w.find("--max-loaded-models 2"), std::string::npos) << w;
  EXPECT_NE(w.find("`a` (1 in flight)"), std::string::npos) << w;
  EXPECT_EQ(state(r, "b"), ModelState::unloaded);
  // The same wait ends well when a model goes idle in time: c is evicted and b loads.
  Answer waits;
  r.when_ready("b", std::nullopt, waits.ready());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(state(r, "b"), ModelState::unloaded);
  c.lease.reset();
  ASSERT_TRUE(waits.wait());
  ASSERT_TRUE(waits.lease) << (waits.error ? waits.error->what() : "");
  EXPECT_EQ(state(r, "c"), ModelState::unloaded);
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
}

TEST(ModelRegistry, BudgetRefusalIsImmediateWithLoadWaitZero) {
  FakeLoader f;
  RegistryOptions o;
  o.max_loaded_models = 1;
  o.load_wait = 0ms;
  ModelRegistry r({spec("a"), spec("b")}, o, f.fn());
  r.start();
  EXPECT_THROW(r.get("a"), ServingError);  // starts the load
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::loaded; }));
  auto lease = r.get("a");
  try {
    r.when_ready("b", std::nullopt, [](auto, auto) { ADD_FAILURE(); });
    FAIL() << "no refusal";
  } catch (const ServingError& e) {
    EXPECT_EQ(e.code(), "model_budget_exceeded");
  }
}

TEST(ModelRegistry, MemoryBudgetEvictsByMeasuredSize) {
  FakeLoader f;
  f.bytes = 600;
  RegistryOptions o;
  o.memory_budget = 1000;
  o.load_wait = 5s;
  ModelRegistry r({spec("a"), spec("b")}, o, f.fn());
  r.start();
  Answer a;
  r.when_ready("a", std::nullopt, a.ready());
  ASSERT_TRUE(a.wait() && a.lease);
  a.lease.reset();
  // b's size is not known before its first load (no files): it loads, and its measured size evicts a.
  Answer b;
  r.when_ready("b", std::nullopt, b.ready());
  ASSERT_TRUE(b.wait() && b.lease);
  ASSERT_TRUE(eventually([&] { return state(r, "a") == ModelState::unloaded; }));
  b.lease.reset();
  Answer a2;
  r.when_ready("a", std::nullopt, a2.ready());
  ASSERT_TRUE(a2.wait() && a2.lease) << (a2.error ? a2.error->what() : "");
  EXPECT_EQ(state(r, "b"), ModelState::unloaded);  // 600 + 600 > 1000
}

TEST(ModelRegistry, UnknownModelNamesTheServedOnes) {
  FakeLoader f;
  ModelRegistry r({spec("a"), spec("b")}, {}, f.fn());
  r.start();
  try {
    r.get("zzz");
    FAIL();
  } catch (const ServingError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_EQ(e.param(), "model");
    EXPECT_NE(std::string(e.what()).find("`a`, `b`"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ModelRegistry({spec("a"), spec("a")}, {}, f.fn()), r1::Error);
}

TEST(ModelRegistry, PreloadHoldsStartingUntilLoaded) {
  FakeLoader f;
  f.hold = true;
  ModelSpec a = spec("a");
  a.preload = true;
  ModelRegistry r({a}, {}, f.fn());
  EXPECT_TRUE(r.starting());
  r.start();
  EXPECT_TRUE(r.starting());
  f.release();
  ASSERT_TRUE(eventually([&] { return !r.starting(); }));
  EXPECT_EQ(state(r, "a"), ModelState::loaded);
  EXPECT_FALSE(r.preload_error());
}

}  // namespace
}  // namespace r1::serving

namespace r1::serving {
namespace {

TEST(ModelRegistry, DrainAnswersWaitersAndRefusesNewRequests) {
  FakeLoader f;
  f.hold = true;
  RegistryOptions o;
  o.load_wait = 5s;
  ModelRegistry r({spec("a")}, o, f.fn());
  r.start();
  Answer a;
  r.when_ready("a", std::nullopt, a.ready());
  r.drain();
  ASSERT_TRUE(a.wait(1s));
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->code(), "draining");
  try {
    r.when_ready("a", std::nullopt, [](auto, auto) { ADD_FAILURE(); });
    FAIL();
  } catch (const ServingError& e) {
    EXPECT_EQ(e.code(), "draining");
  }
  f.release();  // the load in progress finishes; shutdown waits for it
  r.shutdown();
  EXPECT_EQ(state(r, "a"), ModelState::unloaded);
}

}  // namespace
}  // namespace r1::serving
