// r1serve pull end to end, against fake_hub.mjs on loopback: a stand-in for the Hugging Face Hub that speaks
// its wire format (revision API, resolve headers, a 302 to a second port standing for the CDN, Range,
// 401/403, 404 with X-Error-Code) and injects faults. The real Hub cannot be reached from the test machines,
// so these tests pull a fake repo made of the shared stories260K model's files; the server logs every request
// it sees (with its Range and Authorization headers), so the tests check the wire from the server's side.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/sha256.h"
#include "support/test_support.h"

extern char** environ;

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kRepo = "test-org/stories260K";

std::string node() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"})
    if (fs::exists(fs::path(dir) / "node")) return (fs::path(dir) / "node").string();
  return "node";
}

// Starts argv[0] (a path) with stdout and stderr to files; returns the pid, or -1.
pid_t spawn(std::vector<std::string> argv, const std::string& out, const std::string& err) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// fake_hub.mjs as a child process, with its ports read from its "ready" line.
class FakeHub {
 public:
  explicit FakeHub(const TempDir& tmp, std::vector<std::string> flags = {}) : log_(tmp.file("hub.log")) {
    std::string out = tmp.file("hub.out");
    std::filesystem::remove(log_);  // a test's second hub logs afresh
    std::vector<std::string> argv = {node(),       std::string(R1_STORE_TEST_DIR) + "/fake_hub.mjs",
                                     "--repo-dir", shared_path("models/stories260K-hf"),
                                     "--repo",     kRepo,
                                     "--log",      log_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = spawn(argv, out, tmp.file("hub.err"));
    if (pid_ <= 0) return;
    for (int i = 0; i < 200 && hub_port_ == 0; ++i) {  // up to 10 s
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::istringstream line(read_file(out));
      std::string word;
      if (line >> word && word == "ready") line >> hub_port_ >> cdn_port_ >> commit_;
    }
  }
  ~FakeHub() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return hub_port_ != 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }
  const std::string& commit() const { return commit_; }
  // Every request the two servers saw, in order.
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(read_file(log_));
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
    return out;
  }
  std::vector<json> requests_to(const std::string& server) const {
    std::vector<json> out;
    for (auto& r : requests())
      if (r["server"] == server) out.push_back(r);
    return out;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int hub_port_ = 0, cdn_port_ = 0;
  std::string commit_;
};

class Pull : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    if (node() == "node")
      GTEST_SKIP() << "node not found in /usr/bin or /usr/local/bin (scripts/install-deps.sh installs it)";
    fs::create_directories(home());
  }
  std::string cache() const { return tmp_.file("cache"); }
  std::string home() const { return tmp_.file("hf-home"); }  // no stray token from the machine's own HF_HOME
  fs::path repo_dir() const { return fs::path(cache()) / "models--test-org--stories260K"; }

  // r1serve ARGS with the Hub environment: the cache, the fake Hub's endpoint, and `env` (NAME=VALUE).
  CommandResult r1serve(const FakeHub* hub, std::vector<std::string> args,
                        std::vector<std::string> env = {}) {
    return run_command(r1serve_argv(hub, args, env));
  }
  std::vector<std::string> r1serve_argv(const FakeHub* hub, std::vector<std::string> args,
                                        std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {"/usr/bin/env",     "-u", "HF_TOKEN",    "-u",
                                     "HF_HUB_OFFLINE",   "-u", "HF_ENDPOINT", "HF_HUB_CACHE=" + cache(),
                                     "HF_HOME=" + home()};
    // A closed port when no hub runs: a request would fail loudly rather than reach anything.
    argv.push_back("HF_ENDPOINT=" + (hub ? hub->endpoint() : std::string("http://127.0.0.1:9")));
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(R1SERVE_BIN);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Nothing of the repo under snapshots/ or refs/ (a failed pull must leave none).
  void expect_no_snapshot() {
    std::error_code ec;
    EXPECT_FALSE(fs::exists(repo_dir() / "refs" / "main", ec));
    if (fs::exists(repo_dir() / "snapshots")) {
      for (auto& e : fs::recursive_directory_iterator(repo_dir() / "snapshots"))
        EXPECT_NE(e.path().filename(), "model.safetensors") << e.path();
    }
  }

  TempDir tmp_;
};

std::string stories_file(const std::string& name) {
  return shared_path("models/stories260K-hf/" + name);
}

TEST_F(Pull, LocalDirGetsPlainFilesAndNoCache) {
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  const fs::path dir = tmp_.path() / "local";
  CommandResult r = r1serve(&hub, {"pull", kRepo, "--local-dir", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dir.string() + "\n");
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "model.safetensors"}) {
    EXPECT_FALSE(fs::is_symlink(dir / f)) << f;
    EXPECT_EQ(read_file((dir / f).string()), read_file(stories_file(f))) << f;
  }
  for (auto& e : fs::directory_iterator(dir)) EXPECT_NE(e.path().extension(), ".incomplete") << e.path();
  EXPECT_FALSE(fs::exists(repo_dir())) << "--local-dir wrote into the cache";
  // A second pull finds every file in place: only the revision API is asked.
  const size_t before = hub.requests().size();
  CommandResult again = r1serve(&hub, {"pull", kRepo, "--local-dir", dir.string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(hub.requests().size(), before + 1);
  // And the folder is a model: run reads it.
  CommandResult run =
      run_command({R1SERVE_BIN, "run", "--model", dir.string(), "--prompt-ids", "1", "--max-tokens", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(Pull, FillsTheHubCacheLayoutAndASecondPullIsANoOp) {
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::path snap = repo_dir() / "snapshots" / hub.commit();
  EXPECT_EQ(r.out, snap.string() + "\n");
  EXPECT_EQ(read_file((repo_dir() / "refs" / "main").string()), hub.commit());
  std::string sha = store::sha256_file(stories_file("model.safetensors"));
  EXPECT_EQ(fs::read_symlink(snap / "model.safetensors"), fs::path("../../blobs/" + sha));
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "model.safetensors"}) {
    EXPECT_TRUE(fs::is_symlink(snap / f)) << f;
    EXPECT_EQ(read_file((snap / f).string()), read_file(stories_file(f))) << f;
  }
  EXPECT_FALSE(fs::exists(snap / "LICENSE.llama2.c"));  // not a model file, not --include'd
  for (auto& e : fs::directory_iterator(repo_dir() / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << "left behind: " << e.path();
  // The token never went anywhere: none was configured.
  for (auto& q : hub.requests()) EXPECT_TRUE(q["authorization"].is_null()) << q.dump();

  size_t before = hub.requests().size();
  CommandResult again = r1serve(&hub, {"pull", kRepo, "--include", "gguf/*"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("already in the cache"), std::string::npos) << again.err;
  // Only the revision API and the new (nested) file: its HEAD on the Hub and its blob's GET on the CDN.
  std::string gguf_sha = store::sha256_file(stories_file("gguf/stories260K-F32.gguf"));
  auto reqs = hub.requests();
  EXPECT_EQ(reqs.size() - before, 3u);
  for (size_t i = before; i < reqs.size(); ++i) {
    std::string url = reqs[i]["url"];
    EXPECT_TRUE(url.find("/resolve/" + hub.commit() + "/gguf/") != std::string::npos ||
                url == "/blobs/" + gguf_sha || url.find("/api/models/") == 0)
        << reqs[i].dump();
  }
  EXPECT_EQ(read_file((snap / "gguf/stories260K-F32.gguf").string()),
            read_file(stories_file("gguf/stories260K-F32.gguf")));
  EXPECT_EQ(fs::read_symlink(snap / "gguf/stories260K-F32.gguf").string().rfind("../../../blobs/", 0), 0u);
}

TEST_F(Pull, ResumesWithRangeAfterTheConnectionIsCut) {
  FakeHub hub(tmp_, {"--cut-once"});
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> cdn = hub.requests_to("cdn");
  ASSERT_EQ(cdn.size(), 2u) << r.err;
  EXPECT_TRUE(cdn[0]["range"].is_null());
  ASSERT_TRUE(cdn[1]["range"].is_string());
  long from = std::stol(cdn[1]["range"].get<std::string>().substr(6));  // "bytes=N-"
  EXPECT_GT(from, 0);
  EXPECT_EQ(read_file((repo_dir() / "snapshots" / hub.commit() / "model.safetensors").string()),
            read_file(stories_file("model.safetensors")));
}

TEST_F(Pull, RestartsCleanlyWhenTheServerAnswers200ToARange) {
  FakeHub hub(tmp_, {"--cut-once", "--ignore-range"});
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> cdn = hub.requests_to("cdn");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_TRUE(cdn[1]["range"].is_string());  // asked to resume, got the whole file: no doubled prefix
  EXPECT_EQ(read_file((repo_dir() / "snapshots" / hub.commit() / "model.safetensors").string()),
            read_file(stories_file("model.safetensors")));
}

TEST_F(Pull, A206ThatDoesNotContinueTheFileRestartsIt) {
  FakeHub hub(tmp_, {"--cut-once", "--bad-range"});
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("does not continue at byte"), std::string::npos) << r.err;
  EXPECT_GE(hub.requests_to("cdn").size(), 3u);  // cut, the wrong piece, the whole file again
  EXPECT_EQ(read_file((repo_dir() / "snapshots" / hub.commit() / "model.safetensors").string()),
            read_file(stories_file("model.safetensors")));
}

TEST_F(Pull, SendsTheTokenToTheHubButNeverToTheCdnItRedirectsTo) {
  FakeHub hub(tmp_, {"--token", "hf_secret"});
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo}, {"HF_TOKEN=hf_secret"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hub_reqs = hub.requests_to("hub"), cdn_reqs = hub.requests_to("cdn");
  ASSERT_FALSE(hub_reqs.empty());
  ASSERT_FALSE(cdn_reqs.empty());  // model.safetensors came through the redirect
  for (auto& q : hub_reqs) EXPECT_EQ(q["authorization"], "Bearer hf_secret") << q.dump();
  for (auto& q : cdn_reqs) EXPECT_TRUE(q["authorization"].is_null()) << q.dump();
}

TEST_F(Pull, ReadsTheTokenFromHfHome) {
  FakeHub hub(tmp_, {"--token", "hf_saved"});
  ASSERT_TRUE(hub.ready());
  std::ofstream(fs::path(home()) / "token") << "hf_saved\n";
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(Pull, PrivateOrGatedWithoutATokenSaysSo) {
  {
    FakeHub hub(tmp_, {"--token", "hf_secret"});
    ASSERT_TRUE(hub.ready());
    CommandResult r = r1serve(&hub, {"pull", kRepo});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(kRepo), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  }
  FakeHub gated(tmp_, {"--token", "hf_secret", "--auth-status", "403"});
  ASSERT_TRUE(gated.ready());
  CommandResult r = r1serve(&gated, {"pull", kRepo}, {"HF_TOKEN=hf_wrong"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  expect_no_snapshot();
}

TEST_F(Pull, ASha256MismatchIsRefusedAndNothingLands) {
  FakeHub hub(tmp_, {"--corrupt"});
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sha256 mismatch"), std::string::npos) << r.err;
  expect_no_snapshot();
  std::string sha = store::sha256_file(stories_file("model.safetensors"));
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / sha));
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / (sha + ".incomplete")));
}

TEST_F(Pull, ARedirectToANonWebUrlIsRefused) {
  FakeHub hub(tmp_, {"--evil-redirect"});  // model.safetensors -> file:///etc/hostname
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("file:///etc/hostname"), std::string::npos) << r.err;
  expect_no_snapshot();
}

TEST_F(Pull, UnknownRepoAndRevisionAre404sNamingThem) {
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  CommandResult repo = r1serve(&hub, {"pull", "test-org/missing"});
  EXPECT_EQ(repo.exit_code, 1);
  EXPECT_NE(repo.err.find("test-org/missing"), std::string::npos) << repo.err;
  EXPECT_NE(repo.err.find("repository not found"), std::string::npos) << repo.err;
  CommandResult rev = r1serve(&hub, {"pull", std::string(kRepo) + "@nope"});
  EXPECT_EQ(rev.exit_code, 1);
  EXPECT_NE(rev.err.find("revision not found"), std::string::npos) << rev.err;
  EXPECT_NE(rev.err.find("@nope"), std::string::npos) << rev.err;
}

TEST_F(Pull, OfflineNeverTouchesTheNetwork) {
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  CommandResult pull = r1serve(&hub, {"pull", kRepo}, {"HF_HUB_OFFLINE=1"});
  EXPECT_EQ(pull.exit_code, 1);
  EXPECT_NE(pull.err.find("HF_HUB_OFFLINE=1"), std::string::npos) << pull.err;
  CommandResult run =
      r1serve(&hub, {"run", "--model", kRepo, "--prompt", "Once", "--max-tokens", "4"}, {"HF_HUB_OFFLINE=1"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("not in the Hugging Face cache"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("models--test-org--stories260K"), std::string::npos) << run.err;
  EXPECT_TRUE(hub.requests().empty()) << hub.requests().size() << " requests reached the server";
}

TEST_F(Pull, RunGeneratesFromThePulledCopyOffline) {
  std::vector<std::string> gen = {
      "--prompt", "Once upon a time", "--max-tokens", "16", "--temperature", "0", "--threads", "1"};
  auto run_args = [&](const std::string& model) {
    std::vector<std::string> a = {"run", "--model", model};
    a.insert(a.end(), gen.begin(), gen.end());
    return a;
  };
  CommandResult want = r1serve(nullptr, run_args(shared_path("models/stories260K-hf")));
  ASSERT_EQ(want.exit_code, 0) << want.err;
  {
    // Not in the cache and online: --model pulls it first.
    FakeHub hub(tmp_);
    ASSERT_TRUE(hub.ready());
    CommandResult first = r1serve(&hub, run_args(kRepo));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.out, want.out);
  }
  // The hub is gone: the cached copy serves offline.
  CommandResult offline = r1serve(nullptr, run_args(kRepo), {"HF_HUB_OFFLINE=1"});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(offline.out, want.out);
  EXPECT_FALSE(want.out.empty());
}

TEST_F(Pull, TwoPullsAtOnceShareTheCacheWithoutCorruptingIt) {
  FakeHub hub(tmp_, {"--slow"});  // LFS bytes trickle out for about half a second: the pulls overlap
  ASSERT_TRUE(hub.ready());
  CommandResult a, b;
  std::thread ta([&] { a = r1serve(&hub, {"pull", kRepo}); });
  std::thread tb([&] { b = r1serve(&hub, {"pull", kRepo}); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(read_file((repo_dir() / "snapshots" / hub.commit() / "model.safetensors").string()),
            read_file(stories_file("model.safetensors")));
  // The blob's lock made the second wait and then find the blob: it was fetched once.
  EXPECT_EQ(hub.requests_to("cdn").size(), 1u);
}

TEST_F(Pull, InterruptedMidFileLeavesNoSnapshotAndTheNextPullResumes) {
  std::string sha = store::sha256_file(stories_file("model.safetensors"));
  fs::path partial = repo_dir() / "blobs" / (sha + ".incomplete");
  {
    FakeHub stalling(tmp_, {"--stall"});  // sends half of each LFS file, then nothing
    ASSERT_TRUE(stalling.ready());
    pid_t pid = spawn(r1serve_argv(&stalling, {"pull", kRepo}), tmp_.file("pull.out"), tmp_.file("pull.err"));
    ASSERT_GT(pid, 0);
    std::error_code ec;
    for (int i = 0; i < 200 && !(fs::exists(partial, ec) && fs::file_size(partial, ec) > 0); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, SIGINT);  // Ctrl-C
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(fs::exists(partial, ec)) << read_file(tmp_.file("pull.err"));
    EXPECT_TRUE(WIFSIGNALED(status) || WEXITSTATUS(status) != 0);
    expect_no_snapshot();
  }
  uint64_t kept = fs::file_size(partial);
  EXPECT_GT(kept, 0u);
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  CommandResult r = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cdn = hub.requests_to("cdn");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0]["range"], "bytes=" + std::to_string(kept) + "-");
  EXPECT_EQ(read_file((repo_dir() / "snapshots" / hub.commit() / "model.safetensors").string()),
            read_file(stories_file("model.safetensors")));
  EXPECT_FALSE(fs::exists(partial));
}

TEST_F(Pull, SharesItsCacheWithTheHuggingfaceHubNpmPackage) {
  R1_REQUIRE_JS();
  if (!fs::exists(js_dir() + "/node_modules/@huggingface/hub"))
    GTEST_SKIP() << "tests/js/node_modules/@huggingface/hub missing: run npm ci --prefix tests/js";
  FakeHub hub(tmp_);
  ASSERT_TRUE(hub.ready());
  const std::string script = std::string(R1_STORE_TEST_DIR) + "/hf_hub_interop.mjs";
  // 1. A real implementation downloads (it writes no refs/, so the model is named by its commit) ...
  CommandResult js = run_command({node(), script, "download", js_dir(), hub.endpoint(), cache(), kRepo,
                                  hub.commit(), "config.json", "generation_config.json", "tokenizer.json",
                                  "tokenizer_config.json", "model.safetensors"});
  ASSERT_EQ(js.exit_code, 0) << js.out << js.err;
  // ... and r1serve runs it offline as it is.
  std::vector<std::string> gen = {
      "--prompt", "Once upon a time", "--max-tokens", "8", "--temperature", "0", "--threads", "1"};
  std::vector<std::string> by_name = {"run", "--model", std::string(kRepo) + "@" + hub.commit()};
  std::vector<std::string> by_dir = {"run", "--model", stories_file("")};
  by_name.insert(by_name.end(), gen.begin(), gen.end());
  by_dir.insert(by_dir.end(), gen.begin(), gen.end());
  CommandResult want = r1serve(nullptr, by_dir);
  CommandResult got = r1serve(nullptr, by_name, {"HF_HUB_OFFLINE=1"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, want.out);

  // 2. r1serve pulls into the same cache: the package's blobs are the same blobs (same etags), so only the
  // missing file is fetched; then the package's scanCacheDir reads the result without a warning.
  size_t before = hub.requests_to("cdn").size();
  CommandResult pull = r1serve(&hub, {"pull", kRepo});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_EQ(hub.requests_to("cdn").size(), before);  // model.safetensors was not fetched again
  CommandResult scan = run_command({node(), script, "scan", js_dir(), cache()});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  json info = json::parse(scan.out);
  EXPECT_TRUE(info["warnings"].empty()) << scan.out;
  ASSERT_EQ(info["repos"].size(), 1u) << scan.out;
  const json& repo = info["repos"][0];
  EXPECT_EQ(repo["id"], kRepo);
  ASSERT_EQ(repo["revisions"].size(), 1u) << scan.out;
  EXPECT_EQ(repo["revisions"][0]["commit"], hub.commit());
  EXPECT_EQ(repo["revisions"][0]["refs"], json::array({"main"}));
  EXPECT_EQ(repo["revisions"][0]["files"].size(), 6u) << scan.out;
  uint64_t bytes = 0;
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "model.safetensors"})
    bytes += fs::file_size(stories_file(f));
  EXPECT_EQ(repo["size"].get<uint64_t>(), bytes);
}

}  // namespace
}  // namespace r1::test
