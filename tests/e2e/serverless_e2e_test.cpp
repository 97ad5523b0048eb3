// Serverless behaviour of the real server on loopback with two small models (stories260K from ../shared and
// a tiny generated Llama that borrows its tokenizer): load on demand, 503 model_not_ready with Retry-After,
// idle unload with the process's resident memory measured, reload, streams that outlive the idle time,
// a budget of one model, files that vanish, and the official openai client's retries.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string stories() {
  return shared_path("models/stories260K-hf");
}

// A random Llama big enough for its weights (about 13 MB in F32) to show in RSS, with stories' vocabulary.
void write_tiny(const std::string& dir) {
  TinyModelSpec s;
  s.hidden = 256;
  s.ffn = 768;
  s.layers = 4;
  s.heads = 4;
  s.kv_heads = 2;
  s.vocab = 512;
  s.seed = 7;
  write_tiny_model(dir, s);
}

std::vector<std::string> two_models(const std::string& tiny_dir, std::vector<std::string> extra) {
  std::vector<std::string> a = {"--model",           "stories=" + stories(),
                                "--model",           "tiny=" + tiny_dir + ",tokenizer=" + stories(),
                                "--kv-cache-memory", "32MiB",
                                "--threads",         "1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string completion(const std::string& model, int max_tokens = 8) {
  return json{{"model", model},
              {"prompt", "Once upon a time"},
              {"max_tokens", max_tokens},
              {"temperature", 0},
              {"ignore_eos", true}}
      .dump();
}

json model_card(int port, const std::string& id) {
  HttpResult r = http_request(port, "GET", "/v1/models/" + id);
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body, nullptr, false);
}

bool wait_state(int port, const std::string& id, const std::string& state, std::chrono::seconds limit = 20s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (model_card(port, id).value("state", "") == state) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// The value of one exposition line, or -1.
double metric(int port, const std::string& series) {
  std::string text = http_request(port, "GET", "/metrics").body;
  size_t p = text.find("\n" + series + " ");
  if (p == std::string::npos) return -1;
  return std::stod(text.substr(p + series.size() + 2));
}

// A request's counters are written when its accounting runs, just after its response went out: polls
// (bounded) until `series` reads `want`, and returns what it read last.
double metric_reaching(int port, const std::string& series, double want) {
  double v = metric(port, series);
  for (int i = 0; i < 100 && v != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    v = metric(port, series);
  }
  return v;
}

class Serverless : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    write_tiny(tmp_.file("tiny"));
  }
  std::string tiny() const { return tmp_.file("tiny"); }
  TempDir tmp_;
};

TEST_F(Serverless, IdleUnloadReturnsTheMemoryAndTheReloadAnswersTheSame) {
  ServerProcess s(two_models(tiny(), {"--idle-unload", "1s"}));
  ASSERT_TRUE(s.healthy()) << s.log();  // healthy with nothing loaded
  const int port = s.port();
  HttpResult list = http_request(port, "GET", "/v1/models");
  ASSERT_EQ(list.status, 200);
  json models = json::parse(list.body);
  ASSERT_EQ(models["data"].size(), 2u) << list.body;
  for (const auto& m : models["data"]) {
    EXPECT_EQ(m["state"], "unloaded") << m;
    EXPECT_TRUE(m["expires_at"].is_null()) << m;
    EXPECT_EQ(m["keep_alive"], "1s") << m;
  }
  const long before = s.rss_kib();

  HttpResult first = http_request(port, "POST", "/v1/completions", completion("tiny"));
  ASSERT_EQ(first.status, 200) << first.body << s.log();
  std::string text = json::parse(first.body)["choices"][0]["text"];
  // The generation gives its lease back just after the response has gone: then the idle clock runs.
  json card = model_card(port, "tiny");
  for (int i = 0; i < 100 && card["in_flight"] != 0; ++i) {
    std::this_thread::sleep_for(5ms);
    card = model_card(port, "tiny");
  }
  EXPECT_EQ(card["state"], "loaded") << card;
  EXPECT_TRUE(card["size_measured"].get<bool>());
  EXPECT_GT(card["size"].get<size_t>(), 13u << 20) << card;  // weights + 32 MiB of KV
  EXPECT_TRUE(card["expires_at"].is_number()) << card;
  EXPECT_EQ(model_card(port, "stories")["state"], "unloaded");
  const long loaded = s.rss_kib();

  ASSERT_TRUE(wait_state(port, "tiny", "unloaded")) << s.log();
  const long after = s.rss_kib();
  std::printf("RSS: before load %ld KiB, loaded %ld KiB, after idle unload %ld KiB\n", before, loaded, after);
  EXPECT_GT(loaded - before, 10 * 1024) << "the load shows in RSS";
  EXPECT_LT(after - before, 4 * 1024)
      << "after the unload RSS is within 4 MiB of what it was before the load";
  EXPECT_EQ(http_request(port, "GET", "/health").status, 200);  // scaled to zero, still alive

  HttpResult again = http_request(port, "POST", "/v1/completions", completion("tiny"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["choices"][0]["text"], text);  // the reload answers as the first load did
  // A second cycle: glibc raises its mmap threshold after the first large free, so the second load's buffers
  // may come from the heap; the unload still gives them back (malloc_trim).
  ASSERT_TRUE(wait_state(port, "tiny", "unloaded")) << s.log();
  const long after2 = s.rss_kib();
  std::printf("RSS after the second idle unload: %ld KiB\n", after2);
  EXPECT_LT(after2 - before, 4 * 1024);
  EXPECT_EQ(metric(port, "r1serve_model_loads_total{model_name=\"tiny\",outcome=\"ok\"}"), 2);
  EXPECT_EQ(metric(port, "r1serve_model_load_seconds_count{model_name=\"tiny\"}"), 2);
  EXPECT_EQ(metric(port, "r1serve_load_wait_requests_total{model_name=\"tiny\",outcome=\"served\"}"), 2);
  EXPECT_EQ(metric(port, "r1serve_models_loaded"), 0);
  EXPECT_EQ(metric(port, "r1serve_model_unloads_total{model_name=\"tiny\",reason=\"idle\"}"), 2);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

// Sixteen requests at once for a model that is not loaded: each gets its answer (a load wait long enough)
// or 503 + Retry-After (--load-wait 0); none is lost, none hangs.
void sixteen_at_once(const std::string& tiny, const std::string& load_wait, bool expect_all_served) {
  ServerProcess s(two_models(tiny, {"--load-wait", load_wait}));
  ASSERT_TRUE(s.healthy()) << s.log();
  std::vector<RawResponse> answers(16);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < answers.size(); ++i)
    threads.emplace_back(
        [&, i] { answers[i] = exchange(s.port(), "POST", "/v1/completions", completion("tiny", 4)); });
  for (auto& t : threads) t.join();
  int served = 0, not_ready = 0;
  for (const auto& a : answers) {
    if (a.status == 200) {
      ++served;
      EXPECT_EQ(json::parse(a.body)["usage"]["completion_tokens"], 4) << a.body;
    } else {
      ASSERT_EQ(a.status, 503) << a.head << a.body;
      ++not_ready;
      EXPECT_NE(a.head.find("Retry-After: "), std::string::npos) << a.head;
      json e = json::parse(a.body);
      EXPECT_EQ(e["error"]["code"], "model_not_ready") << a.body;
      EXPECT_EQ(e["error"]["type"], "service_unavailable_error");
    }
  }
  EXPECT_EQ(served + not_ready, 16);
  if (expect_all_served)
    EXPECT_EQ(served, 16) << s.log();
  else
    EXPECT_GE(not_ready, 1);
  // One load for all of them (with --load-wait 0 it goes on after the answers).
  EXPECT_TRUE(wait_state(s.port(), "tiny", "loaded")) << s.log();
  EXPECT_EQ(metric(s.port(), "r1serve_model_loads_total{model_name=\"tiny\",outcome=\"ok\"}"), 1) << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, SixteenRequestsDuringALoadAllServedWithinTheLoadWait) {
  sixteen_at_once(tiny(), "60", true);
}

TEST_F(Serverless, SixteenRequestsDuringALoadWithLoadWaitZeroGet503AndRetryAfter) {
  sixteen_at_once(tiny(), "0", false);
}

TEST_F(Serverless, AStreamRunningPastTheIdleTimeKeepsItsModel) {
  // --idle-unload 0: unloaded the moment nothing uses it; a stream uses it until its last token.
  ServerProcess s(two_models(tiny(), {"--idle-unload", "0"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  json body = json::parse(completion("tiny", 400));
  body["stream"] = true;
  RawConnection c(s.port());
  std::string b = body.dump();
  c.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(b.size()) + "\r\n\r\n" + b);
  char ch;
  ASSERT_EQ(::recv(c.fd(), &ch, 1, MSG_PEEK), 1);  // streaming has begun
  json card = model_card(s.port(), "tiny");
  std::printf("mid-stream: %s\n", card.dump().c_str());
  auto raw = c.read_response();
  ASSERT_TRUE(raw);
  auto r = parse_raw_response(*raw);
  EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
  EXPECT_NE(r->body.find("\"finish_reason\":\"length\""), std::string::npos) << r->body.substr(0, 2000);
  EXPECT_EQ(r->body.find("\"finish_reason\":\"abort\""), std::string::npos);
  // Once done, it goes.
  EXPECT_TRUE(wait_state(s.port(), "tiny", "unloaded")) << s.log();
  EXPECT_EQ(metric(s.port(), "r1serve_model_unloads_total{model_name=\"tiny\",reason=\"idle\"}"), 1);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, ABudgetOfOneModelAlternatesWithoutErrors) {
  ServerProcess s(two_models(tiny(), {"--max-loaded-models", "1"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  std::string first_tiny;
  for (int i = 0; i < 3; ++i)
    for (const char* m : {"stories", "tiny"}) {
      HttpResult r = http_request(s.port(), "POST", "/v1/completions", completion(m));
      ASSERT_EQ(r.status, 200) << m << " " << r.body << s.log();
      std::string text = json::parse(r.body)["choices"][0]["text"];
      if (std::string(m) == "tiny" && i == 0) first_tiny = text;
      if (std::string(m) == "tiny") EXPECT_EQ(text, first_tiny);
      EXPECT_EQ(model_card(s.port(), m)["state"], "loaded");
      EXPECT_EQ(model_card(s.port(), std::string(m) == "tiny" ? "stories" : "tiny")["state"], "unloaded");
    }
  EXPECT_EQ(metric(s.port(), "r1serve_model_unloads_total{model_name=\"stories\",reason=\"evicted\"}"), 3);
  EXPECT_EQ(metric(s.port(), "r1serve_model_unloads_total{model_name=\"tiny\",reason=\"evicted\"}"), 2);
  EXPECT_EQ(metric(s.port(), "r1serve_models_loaded"), 1);
  // vLLM's request series are labelled with the model that served the request.
  for (const char* m : {"stories", "tiny"}) {
    EXPECT_EQ(metric_reaching(s.port(),
                              std::string("vllm:request_success_total{model_name=\"") + m +
                                  "\",finished_reason=\"length\"}",
                              3),
              3)
        << m;
    EXPECT_EQ(
        metric_reaching(s.port(), std::string("vllm:generation_tokens_total{model_name=\"") + m + "\"}", 24),
        24)
        << m;
  }
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, AModelWhoseFilesVanishFailsClearlyAndTheOtherKeepsServing) {
  ServerProcess s(two_models(tiny(), {"--idle-unload", "200ms"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  ASSERT_EQ(http_request(s.port(), "POST", "/v1/completions", completion("tiny")).status, 200);
  ASSERT_TRUE(wait_state(s.port(), "tiny", "unloaded")) << s.log();
  std::filesystem::remove_all(tiny());
  for (int attempt = 0; attempt < 2; ++attempt) {
    RawResponse r = exchange(s.port(), "POST", "/v1/completions", completion("tiny"));
    EXPECT_EQ(r.status, 500) << r.body;
    json e = json::parse(r.body);
    EXPECT_EQ(e["error"]["code"], "model_load_failed") << r.body;
    std::string msg = e["error"]["message"];
    EXPECT_NE(msg.find("`tiny` could not be loaded"), std::string::npos) << msg;
    EXPECT_NE(msg.find(tiny()), std::string::npos) << msg;  // names the folder
  }
  // Each request retried the load once; nothing retries on its own.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(s.port(), "r1serve_model_loads_total{model_name=\"tiny\",outcome=\"error\"}"), 2);
  EXPECT_NE(model_card(s.port(), "tiny")["last_error"].get<std::string>().find(tiny()), std::string::npos);
  HttpResult other = http_request(s.port(), "POST", "/v1/completions", completion("stories"));
  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(http_request(s.port(), "GET", "/health").status, 200);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, KeepAliveFieldAndBadValues) {
  ServerProcess s(two_models(tiny(), {"--idle-unload", "never"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  json body = json::parse(completion("stories"));
  body["keep_alive"] = 0;  // Ollama: unload once this request is done
  HttpResult r = http_request(s.port(), "POST", "/v1/completions", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wait_state(s.port(), "stories", "unloaded")) << s.log();
  body["keep_alive"] = "5m";
  ASSERT_EQ(http_request(s.port(), "POST", "/v1/completions", body.dump()).status, 200);
  EXPECT_EQ(model_card(s.port(), "stories")["keep_alive"], "5m");
  body["keep_alive"] = "soon";
  HttpResult bad = http_request(s.port(), "POST", "/v1/completions", body.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["param"], "keep_alive") << bad.body;
  EXPECT_EQ(http_request(s.port(), "GET", "/v1/models/nope").status, 404);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, KeepAliveEnvironmentIsTheDefaultIdleTime) {
  ::setenv("R1SERVE_KEEP_ALIVE", "7m", 1);
  ServerProcess s(two_models(tiny(), {}));
  ::unsetenv("R1SERVE_KEEP_ALIVE");
  ASSERT_TRUE(s.healthy()) << s.log();
  EXPECT_EQ(model_card(s.port(), "tiny")["keep_alive"], "7m");
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, ModelsFromTheStoreAndTheHuggingFaceCacheLoadOnDemand) {
  R1_REQUIRE_SHARED();
  // r1serve's store, filled by `r1serve import` (a packed q8 file), and a cache laid out as huggingface_hub
  // writes it (refs/main names the snapshot).
  ::setenv("R1SERVE_HOME", tmp_.file("store").c_str(), 1);
  CommandResult imp =
      run_r1serve({"import", shared_path("models/stories260K-hf"), "--name", "stories:q8", "--dtype", "q8"});
  ASSERT_EQ(imp.exit_code, 0) << imp.out << imp.err;
  const std::string repo = tmp_.file("hub/models--test--tiny");
  std::filesystem::create_directories(repo + "/refs");
  std::ofstream(repo + "/refs/main") << "0123456789abcdef0123456789abcdef01234567";
  write_tiny(repo + "/snapshots/0123456789abcdef0123456789abcdef01234567");
  ::setenv("HF_HUB_CACHE", tmp_.file("hub").c_str(), 1);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ServerProcess s(
      {"--models-from-store", "--tokenizer", stories(), "--kv-cache-memory", "32MiB", "--threads", "1"});
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HF_HUB_OFFLINE");
  ::unsetenv("R1SERVE_HOME");
  ASSERT_TRUE(s.healthy()) << s.log();
  for (const char* name : {"stories:q8", "test/tiny"}) {
    json card = model_card(s.port(), name);
    EXPECT_EQ(card["state"], "unloaded") << card;
    HttpResult r = http_request(s.port(), "POST", "/v1/completions", completion(name));
    EXPECT_EQ(r.status, 200) << name << ": " << r.body << s.log();
    EXPECT_EQ(json::parse(r.body)["model"], name) << r.body;
    EXPECT_EQ(model_card(s.port(), name)["state"], "loaded") << name;
  }
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(Serverless, OpenAiClientSeesModelNotReadyAndItsRetriesSucceed) {
  R1_REQUIRE_JS();
  ServerProcess s(two_models(tiny(), {"--load-wait", "0"}));
  ASSERT_TRUE(s.healthy()) << s.log();
  CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/serverless_e2e.mjs", s.base_url(),
                                 js_dir(), "stories", "tiny"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace r1::test

namespace r1::test {
namespace {

// Start-up refuses bad lifecycle flags with a message naming the flag (exit 1, nothing served).
TEST(ServerlessCli, BadFlagsAreNamed) {
  R1_REQUIRE_SHARED();
  const std::string st = "stories=" + shared_path("models/stories260K-hf");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"serve", "--port", "0"}, "--model is required"},
      {{"serve", "--model", st, "--idle-unload", "soon"}, "--idle-unload 'soon'"},
      {{"serve", "--model", st, "--preload", "other"}, "--preload other: no --model has that name"},
      {{"serve", "--model", st, "--model", st}, "the name `stories` is given twice"},
      {{"serve", "--model", st + ",colour=red"}, "unknown per-model option 'colour'"},
      {{"serve", "--model", st, "--memory-budget", "lots"}, "--memory-budget"},
      {{"serve", "--model", st, "--model", "b=" + shared_path("models/stories260K-hf"), "--served-model-name",
        "x"},
       "--served-model-name names one model"},
  };
  for (const Case& c : cases) {
    CommandResult r = run_r1serve(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.says << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace r1::test
