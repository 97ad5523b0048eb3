// `r1serve serve --model ORG/NAME` offline from a Hugging Face cache laid out as `hf download` leaves it
// (built here with plain file operations from the shared stories260K files): the resolver finds the
// snapshot, and the API serves the model under its Hub id; and a model imported into r1serve's store, under
// its store name.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "store/sha256.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

TEST(ServeByName, AHubIdFromTheCacheIsServedUnderItsNameOffline) {
  R1_REQUIRE_SHARED();
  TempDir tmp;
  const std::string commit = "1111111111111111111111111111111111111111";
  fs::path repo = tmp.path() / "hub" / "models--test-org--stories260K";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "snapshots" / commit);
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "model.safetensors"}) {
    std::string src = shared_path(std::string("models/stories260K-hf/") + f);
    std::string etag = store::sha256_file(src);  // any unique name serves; the Hub's differ for git files
    fs::copy_file(src, repo / "blobs" / etag, fs::copy_options::overwrite_existing);
    fs::create_symlink("../../blobs/" + etag, repo / "snapshots" / commit / f);
  }
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << commit;

  // The server inherits this process's environment.
  ::setenv("HF_HUB_CACHE", (tmp.path() / "hub").c_str(), 1);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ServerProcess server({"--model", "test-org/stories260K", "--kv-cache-memory", "64MiB", "--threads", "1"});
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HF_HUB_OFFLINE");
  ASSERT_TRUE(server.healthy()) << server.log();
  HttpResult models = http_request(server.port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_EQ(nlohmann::json::parse(models.body)["data"][0]["id"], "test-org/stories260K") << models.body;
  HttpResult done = http_request(server.port(), "POST", "/v1/completions",
                                 R"({"model": "test-org/stories260K", "prompt": "Once upon a time",
                                     "max_tokens": 8, "temperature": 0})",
                                 {"Content-Type: application/json"});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_FALSE(nlohmann::json::parse(done.body)["choices"][0]["text"].get<std::string>().empty());
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

// A model imported into r1serve's store (packed q8) is served under its store name.
TEST(ServeByName, AStoreNameIsServedUnderItsName) {
  R1_REQUIRE_SHARED();
  TempDir tmp;
  CommandResult imp = run_r1serve({"import", shared_path("models/stories260K-hf"), "--name", "tiny:q8",
                                   "--dtype", "q8", "--store", tmp.file("store")});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  ::setenv("R1SERVE_HOME", tmp.file("store").c_str(), 1);
  ServerProcess server({"--model", "tiny:q8", "--kv-cache-memory", "64MiB", "--threads", "1"});
  ::unsetenv("R1SERVE_HOME");
  ASSERT_TRUE(server.healthy()) << server.log();
  HttpResult models = http_request(server.port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_EQ(nlohmann::json::parse(models.body)["data"][0]["id"], "tiny:q8") << models.body;
  HttpResult done = http_request(server.port(), "POST", "/v1/completions",
                                 R"({"model": "tiny:q8", "prompt": "Once upon a time", "max_tokens": 8,
                                     "temperature": 0})",
                                 {"Content-Type: application/json"});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_FALSE(nlohmann::json::parse(done.body)["choices"][0]["text"].get<std::string>().empty());
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

}  // namespace
}  // namespace r1::test
