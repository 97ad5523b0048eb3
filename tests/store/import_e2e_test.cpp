// r1serve import / list / show / rm end to end through the CLI, on the shared stories260K package: what is
// imported is checked, described and servable by name (converted at load or packed), names cannot escape
// the store, a refused import leaves nothing, an import killed at any moment leaves the store consistent, and
// a removed model is gone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/sha256.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("R1SERVE_HOME", store().c_str(), 1);  // run --model NAME reads it (children inherit it)
  }
  void TearDown() override { ::unsetenv("R1SERVE_HOME"); }
  std::string store() const { return tmp_.file("store"); }
  std::string src() const { return shared_path("models/stories260K-hf"); }
  CommandResult generate(const std::string& model, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "run", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "12", "--temperature", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_r1serve(args);
  }
  // Nothing of a failed import is visible: no entry, no staging folder.
  void expect_store_clean() {
    EXPECT_FALSE(fs::exists(fs::path(store()) / "models") && !fs::is_empty(fs::path(store()) / "models"));
    EXPECT_FALSE(fs::exists(fs::path(store()) / "tmp") && !fs::is_empty(fs::path(store()) / "tmp"));
  }
  TempDir tmp_;
};

TEST_F(Import, ImportListShowRunRemove) {
  R1_REQUIRE_SHARED();
  CommandResult imp = run_r1serve({"import", src(), "--name", "stories:test"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  const fs::path entry = fs::path(store()) / "models" / "stories" / "test";
  EXPECT_EQ(imp.out, entry.string() + "\n");

  CommandResult ls = run_r1serve({"list"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("NAME"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("stories:test"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("LlamaForCausalLM"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("safetensors"), std::string::npos) << ls.out;

  CommandResult show = run_r1serve({"show", "stories:test", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json m = nlohmann::json::parse(show.out);
  EXPECT_EQ(m["name"], "stories");
  EXPECT_EQ(m["tag"], "test");
  EXPECT_EQ(m["source"], src());
  EXPECT_EQ(m["architecture"], "LlamaForCausalLM");
  EXPECT_GT(m["parameters"].get<uint64_t>(), 200000u);
  EXPECT_EQ(m["weights_format"], "safetensors");
  std::map<std::string, std::string> sha;
  for (const auto& f : m["files"]) sha[f["path"]] = f["sha256"];
  for (const char* f : {"config.json", "tokenizer.json", "model.safetensors"}) {
    ASSERT_TRUE(sha.count(f)) << f << " not in the manifest: " << show.out;
    EXPECT_EQ(sha[f], store::sha256_file(src() + "/" + f)) << f;
  }
  CommandResult human = run_r1serve({"show", "stories"});  // :latest is not there
  EXPECT_NE(human.exit_code, 0);
  EXPECT_NE(human.err.find("stories:latest is not in the store"), std::string::npos) << human.err;

  // Served by name: the same text as from the folder.
  CommandResult by_name = generate("stories:test"), by_folder = generate(src());
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(by_name.out, by_folder.out);
  EXPECT_FALSE(by_name.out.empty());

  // The same name again: refused unless --force.
  CommandResult again = run_r1serve({"import", src(), "--name", "stories:test"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already in the store"), std::string::npos) << again.err;
  EXPECT_EQ(run_r1serve({"import", src(), "--name", "stories:test", "--force"}).exit_code, 0);

  CommandResult rm = run_r1serve({"rm", "stories:test"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(entry));
  EXPECT_EQ(run_r1serve({"list"}).out.find("stories:test"), std::string::npos);
  CommandResult gone = generate("stories:test");
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("no model stories:test in the store"), std::string::npos) << gone.err;
  EXPECT_NE(run_r1serve({"rm", "stories:test"}).exit_code, 0);
  expect_store_clean();
}

TEST_F(Import, PackedQ8ServesTheSameTextAsConvertingAtLoad) {
  R1_REQUIRE_SHARED();
  CommandResult imp = run_r1serve({"import", src(), "--name", "stories:q8", "--dtype", "q8"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  const fs::path entry = fs::path(store()) / "models" / "stories" / "q8";
  EXPECT_TRUE(fs::exists(entry / "weights.r1pack"));
  EXPECT_FALSE(fs::exists(entry / "model.safetensors")) << "the packed file replaces the safetensors";
  nlohmann::json m = nlohmann::json::parse(run_r1serve({"show", "stories:q8", "--json"}).out);
  EXPECT_EQ(m["weights_format"], "packed");
  EXPECT_EQ(m["dtype"], "q8");
  EXPECT_NE(run_r1serve({"list"}).out.find("packed q8"), std::string::npos);

  CommandResult packed = generate("stories:q8"), converted = generate(src(), {"--dtype", "q8"});
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  EXPECT_EQ(packed.out, converted.out);
  // Asking the packed model for another precision says how to get it.
  CommandResult q4 = generate("stories:q8", {"--dtype", "q4"});
  EXPECT_NE(q4.exit_code, 0);
  EXPECT_NE(q4.err.find("packed as q8"), std::string::npos) << q4.err;
  // A store model is itself a source: re-import it under another name (the packed file is copied, checked).
  CommandResult copy = run_r1serve({"import", "stories:q8", "--name", "stories2"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(generate("stories2").out, packed.out);
}

TEST_F(Import, NamesThatCouldEscapeTheStoreAreRefused) {
  R1_REQUIRE_SHARED();
  for (const char* bad : {"../x", "a/b", "..", ".x", "x:..", "x:../y", "x y", ""}) {
    SCOPED_TRACE(bad);
    CommandResult r = run_r1serve({"import", src(), "--name", bad});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("model name"), std::string::npos) << r.err;
  }
  expect_store_clean();
  EXPECT_NE(run_r1serve({"import", src(), "--name", "x", "--dtype", "f32"}).exit_code, 0);
}

TEST_F(Import, ABrokenPackageLeavesNothing) {
  R1_REQUIRE_SHARED();
  // One layer more in config.json than the weights hold: the loader's tensor check refuses it.
  fs::path bad = tmp_.path() / "bad";
  fs::create_directories(bad);
  for (const auto& e : fs::directory_iterator(src()))
    if (e.is_regular_file()) fs::copy_file(e.path(), bad / e.path().filename());
  fs::permissions(bad / "config.json", fs::perms::owner_write, fs::perm_options::add);
  nlohmann::json cfg = read_json((bad / "config.json").string());
  cfg["num_hidden_layers"] = cfg["num_hidden_layers"].get<int>() + 1;
  std::ofstream(bad / "config.json") << cfg.dump();
  CommandResult r = run_r1serve({"import", bad.string(), "--name", "bad"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing tensor"), std::string::npos) << r.err;
  // No tokenizer: a model in the store must be servable.
  fs::remove(bad / "config.json");
  fs::copy_file(src() + "/config.json", bad / "config.json");  // valid again: the tokenizer is what fails
  fs::remove(bad / "tokenizer.json");
  r = run_r1serve({"import", bad.string(), "--name", "bad", "--dtype", "q4"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("tokenizer"), std::string::npos) << r.err;
  r = run_r1serve({"import", tmp_.file("nowhere"), "--name", "bad"});
  EXPECT_NE(r.exit_code, 0);
  expect_store_clean();
}

// SIGKILL at a spread of moments through `import --dtype q8` (validation, conversion, packing, hashing, the
// final rename): afterwards every model the store lists is complete and servable, one that is not listed left
// nothing but a staging folder of a dead process, and the next import clears that folder away.
TEST_F(Import, AnImportKilledAtAnyMomentLeavesTheStoreConsistent) {
  R1_REQUIRE_SHARED();
  const int delays_ms[] = {0, 2, 5, 10, 20, 40, 80, 160, 320};
  int listed = 0;
  for (int i = 0; i < int(std::size(delays_ms)); ++i) {
    const std::string name = "stories:k" + std::to_string(i);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(R1SERVE_BIN, "r1serve", "import", src().c_str(), "--name", name.c_str(), "--dtype", "q8",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delays_ms[i]));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CommandResult ls = run_r1serve({"list"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    const bool in_list = ls.out.find(name) != std::string::npos;
    EXPECT_EQ(in_list, fs::exists(fs::path(store()) / "models" / "stories" / ("k" + std::to_string(i))))
        << "the list and the folder disagree about " << name;
    if (in_list) {
      ++listed;
      CommandResult run = generate(name);
      EXPECT_EQ(run.exit_code, 0) << name << " is listed but does not serve: " << run.err;
      CommandResult show = run_r1serve({"show", name, "--json"});
      EXPECT_EQ(show.exit_code, 0) << show.err;
    }
  }
  // The next import removes the staging folders the killed ones left, and succeeds.
  CommandResult imp = run_r1serve({"import", src(), "--name", "stories:after", "--dtype", "q8"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  const fs::path tmp = fs::path(store()) / "tmp";
  EXPECT_TRUE(!fs::exists(tmp) || fs::is_empty(tmp)) << "staging left behind in " << tmp;
  // Not an assertion on timing, only a note of what the spread reached: how many imports finished before the
  // kill.
  RecordProperty("imports_completed_before_the_kill", listed);
}

}  // namespace
}  // namespace r1::test
