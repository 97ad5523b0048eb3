// The one --model resolver and the environment it reads (HF_HUB_CACHE, HF_HOME, HF_TOKEN, HF_HUB_OFFLINE), on
// cache trees laid out as huggingface_hub writes them. Network cases are in pull_e2e_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include "core/error.h"
#include "store/model_resolver.h"
#include "support/test_support.h"

namespace r1::store {
namespace {

namespace fs = std::filesystem;
using r1::test::TempDir;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

// Sets environment variables for one test and restores the previous values after it.
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old)
        ::setenv(name.c_str(), old->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  void set(const std::string& name, const char* value) {
    if (!saved_.count(name)) {
      const char* v = std::getenv(name.c_str());
      saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
    }
    if (value)
      ::setenv(name.c_str(), value, 1);
    else
      ::unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

ResolveOptions offline_options(const fs::path& cache) {
  ResolveOptions o;
  o.hub.cache_dir = cache;
  o.hub.offline = true;
  return o;
}

TEST(Resolver, AnExistingFolderIsItself) {
  TempDir t;
  ResolvedModel m = resolve_model(t.path().string(), offline_options(t.path() / "cache"));
  EXPECT_EQ(m.dir, t.path().string());
  EXPECT_EQ(m.hub_id, "");
}

TEST(Resolver, AHubIdInTheCacheIsItsSnapshotOffline) {
  TempDir t;
  fs::path repo = t.path() / "models--org--name";
  write(repo / "blobs" / "aaaa", "{}");
  fs::create_directories(repo / "snapshots" / kCommit);
  fs::create_symlink("../../blobs/aaaa", repo / "snapshots" / kCommit / "config.json");
  write(repo / "refs" / "main", kCommit);
  write(repo / "refs" / "v1.0", kCommit);
  for (const std::string& spec :
       std::vector<std::string>{"org/name", "org/name@v1.0", "org/name@" + kCommit}) {
    ResolvedModel m = resolve_model(spec, offline_options(t.path()));
    EXPECT_EQ(fs::path(m.dir), repo / "snapshots" / kCommit) << spec;
    EXPECT_EQ(m.hub_id, "org/name");
    EXPECT_EQ(m.commit, kCommit);
  }
}

TEST(Resolver, OfflineMissSaysWhatIsMissing) {
  TempDir t;
  auto message = [&](const std::string& spec) {
    try {
      resolve_model(spec, offline_options(t.path()));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  std::string none = message("org/name");
  EXPECT_NE(none.find("HF_HUB_OFFLINE=1"), std::string::npos) << none;
  EXPECT_NE(none.find("models--org--name"), std::string::npos) << none;
  EXPECT_NE(none.find("r1serve pull org/name"), std::string::npos) << none;
  write(t.path() / "models--org--name" / "refs" / "main", kCommit);
  std::string no_snapshot = message("org/name");
  EXPECT_NE(no_snapshot.find("snapshots/ folder is missing"), std::string::npos) << no_snapshot;
  std::string no_ref = message("org/name@v2");
  EXPECT_NE(no_ref.find("refs/v2"), std::string::npos) << no_ref;
  std::string not_id = message("no/such/folder");
  EXPECT_NE(not_id.find("no such folder"), std::string::npos) << not_id;
}

TEST(Resolver, WithoutPullingAMissIsAnErrorToo) {
  TempDir t;
  ResolveOptions o = offline_options(t.path());
  o.hub.offline = false;
  o.pull_missing = false;
  try {
    resolve_model("org/name", o);
    ADD_FAILURE() << "resolved a model that is not in the cache";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("r1serve pull org/name"), std::string::npos) << e.what();
  }
}

TEST(HubConfigEnv, CacheFolderPrecedence) {
  ScopedEnv env;
  env.set("HF_HUB_CACHE", nullptr);
  env.set("HF_HOME", nullptr);
  env.set("XDG_CACHE_HOME", nullptr);
  env.set("HOME", "/home/u");
  EXPECT_EQ(hub_config_from_env().cache_dir, fs::path("/home/u/.cache/huggingface/hub"));
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(hub_config_from_env().cache_dir, fs::path("/xdg/huggingface/hub"));
  env.set("HF_HOME", "/hf");
  EXPECT_EQ(hub_config_from_env().cache_dir, fs::path("/hf/hub"));
  env.set("HF_HUB_CACHE", "/hubcache");
  EXPECT_EQ(hub_config_from_env().cache_dir, fs::path("/hubcache"));
  EXPECT_EQ(hub_config_from_env("/flag").cache_dir, fs::path("/flag"));  // --cache-dir wins
}

TEST(HubConfigEnv, TokenEndpointAndOffline) {
  TempDir t;
  ScopedEnv env;
  env.set("HF_HOME", t.path().c_str());
  env.set("HF_TOKEN", nullptr);
  env.set("HF_TOKEN_PATH", nullptr);
  env.set("HF_ENDPOINT", nullptr);
  env.set("HF_HUB_OFFLINE", nullptr);
  HubConfig c = hub_config_from_env();
  EXPECT_FALSE(c.token);
  EXPECT_EQ(c.endpoint, "https://huggingface.co");
  EXPECT_FALSE(c.offline);
  write(t.path() / "token", "hf_fromfile\n");  // `hf auth login` writes the token here
  EXPECT_EQ(hub_config_from_env().token, "hf_fromfile");
  env.set("HF_TOKEN", "hf_fromenv");
  EXPECT_EQ(hub_config_from_env().token, "hf_fromenv");
  env.set("HF_ENDPOINT", "http://127.0.0.1:9/");
  EXPECT_EQ(hub_config_from_env().endpoint, "http://127.0.0.1:9");
  env.set("HF_ENDPOINT", "ftp://x");
  EXPECT_THROW(hub_config_from_env(), Error);
  env.set("HF_ENDPOINT", nullptr);
  for (const char* v : {"1", "true", "YES", "on"}) {
    env.set("HF_HUB_OFFLINE", v);
    EXPECT_TRUE(hub_config_from_env().offline) << v;
  }
  env.set("HF_HUB_OFFLINE", "0");
  EXPECT_FALSE(hub_config_from_env().offline);
}

}  // namespace
}  // namespace r1::store
