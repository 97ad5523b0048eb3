// s3:// model sources end to end against a real S3-compatible server on loopback: fake_s3.mjs runs the
// s3rver npm package (pinned in tests/js) behind a Signature Version 4 check, serving the shared stories260K
// package under s3://models/stories/. r1serve lists the prefix (ListObjectsV2), fetches each file signed by
// libcurl, resumes a partial file with Range, and refuses wrong or missing credentials with S3's answer.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "store/sha256.h"
#include "support/test_support.h"

extern char** environ;

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string node() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"})
    if (fs::exists(fs::path(dir) / "node")) return (fs::path(dir) / "node").string();
  return "node";
}

// fake_s3.mjs as a child process, its port read from its "ready" line.
class FakeS3 {
 public:
  explicit FakeS3(const TempDir& tmp) : log_(tmp.file("s3.log")) {
    const std::string out = tmp.file("s3.out");
    std::vector<std::string> argv = {node(),     std::string(R1_STORE_TEST_DIR) + "/fake_s3.mjs",
                                     "--js-dir", js_dir(),
                                     "--store",  tmp.file("s3rver"),
                                     "--dir",    shared_path("models/stories260K-hf"),
                                     "--prefix", "stories/",
                                     "--log",    log_};
    fs::create_directories(tmp.file("s3rver"));
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, tmp.file("s3.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; pid_ > 0 && i < 300 && port_ == 0; ++i) {  // up to 15 s
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::istringstream line(read_file(out));
      std::string word;
      if (line >> word && word == "ready") line >> port_;
    }
  }
  ~FakeS3() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return port_ != 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(read_file(log_));
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
    return out;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class S3 : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("R1SERVE_HOME", tmp_.file("home").c_str(), 1);
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
  }
  void TearDown() override {
    for (const char* v : {"R1SERVE_HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                          "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"})
      ::unsetenv(v);
  }
  CommandResult generate(const std::string& model) {
    return run_r1serve({"run", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "12",
                        "--temperature", "0"});
  }
  fs::path local_copy() const { return tmp_.path() / "home" / "s3" / "models" / "stories"; }
  TempDir tmp_;
};

TEST_F(S3, RunAndImportFromAPrefixWithSignedRequests) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  FakeS3 s3(tmp_);
  ASSERT_TRUE(s3.ready()) << read_file(tmp_.file("s3.err"));
  ::setenv("AWS_ENDPOINT_URL_S3", s3.endpoint().c_str(), 1);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);  // the S3-specific variable wins
  CommandResult by_s3 = generate("s3://models/stories/"),
                by_folder = generate(shared_path("models/stories260K-hf"));
  ASSERT_EQ(by_s3.exit_code, 0) << by_s3.err;
  EXPECT_EQ(by_s3.out, by_folder.out);
  for (const char* f : {"config.json", "tokenizer.json", "model.safetensors"})
    EXPECT_EQ(store::sha256_file(local_copy() / f),
              store::sha256_file(shared_path("models/stories260K-hf/") + f));
  EXPECT_FALSE(fs::exists(local_copy() / "LICENSE.llama2.c")) << "only the files a model needs are fetched";
  auto reqs = s3.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_NE(reqs[0]["url"].get<std::string>().find("list-type=2"), std::string::npos) << reqs[0];
  for (const auto& r : reqs) EXPECT_TRUE(r["signed"].get<bool>()) << r;

  // import from S3: nothing fetched again (sizes match), the source recorded.
  const size_t before = s3.requests().size();
  CommandResult imp = run_r1serve({"import", "s3://models/stories", "--name", "from-s3", "--dtype", "q8"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(s3.requests().size(), before + 1) << "only the listing";
  json m = json::parse(run_r1serve({"show", "from-s3", "--json"}).out);
  EXPECT_EQ(m["source"], "s3://models/stories");
  EXPECT_EQ(m["dtype"], "q8");
}

TEST_F(S3, APartialFileIsResumedWithRange) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  FakeS3 s3(tmp_);
  ASSERT_TRUE(s3.ready()) << read_file(tmp_.file("s3.err"));
  ::setenv("AWS_ENDPOINT_URL", s3.endpoint().c_str(), 1);
  fs::create_directories(local_copy());
  const std::string whole = read_file(shared_path("models/stories260K-hf/model.safetensors"));
  std::ofstream(local_copy() / "model.safetensors.incomplete", std::ios::binary) << whole.substr(0, 100000);
  CommandResult r = generate("s3://models/stories/");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file((local_copy() / "model.safetensors").string()), whole);
  EXPECT_FALSE(fs::exists(local_copy() / "model.safetensors.incomplete"));
  bool ranged = false;
  for (const auto& q : s3.requests())
    if (q["url"].get<std::string>().find("model.safetensors") != std::string::npos)
      ranged |= q["range"] == "bytes=100000-";
  EXPECT_TRUE(ranged) << "no Range request for the rest of model.safetensors";
}

TEST_F(S3, WrongOrMissingCredentialsAndBadLocationsAreRefused) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  FakeS3 s3(tmp_);
  ASSERT_TRUE(s3.ready()) << read_file(tmp_.file("s3.err"));
  ::setenv("AWS_ENDPOINT_URL", s3.endpoint().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  CommandResult r = generate("s3://models/stories/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << r.err;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  r = generate("s3://models/stories/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no credentials were sent"), std::string::npos) << r.err;
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  r = generate("s3://models/nothing-here/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no config.json under this prefix"), std::string::npos) << r.err;
  r = generate("s3://Bad_Bucket/x/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is not an S3 bucket name"), std::string::npos) << r.err;
  r = generate("s3://models/../x/");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the prefix"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(local_copy() / "model.safetensors"));
}

}  // namespace
}  // namespace r1::test
