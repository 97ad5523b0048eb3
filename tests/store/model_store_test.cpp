// r1serve's model store (store/model_store.h): names that cannot escape the store, entries that appear and
// disappear with one rename, staging folders of dead processes cleaned up, and the resolver finding names.
#include "store/model_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/error.h"
#include "store/model_resolver.h"
#include "support/test_support.h"

namespace r1::store {
namespace {

namespace fs = std::filesystem;

TEST(StoreName, ParsesNameAndTag) {
  auto n = parse_store_name("deepseek-r1:7b");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->name, "deepseek-r1");
  EXPECT_EQ(n->tag, "7b");
  EXPECT_EQ(parse_store_name("qwen2.5_mini")->tag, "latest");
  EXPECT_EQ(parse_store_name("m:v1.0")->str(), "m:v1.0");
}

TEST(StoreName, AnythingWithASlashIsNotAStoreName) {
  EXPECT_FALSE(parse_store_name("org/name"));
  EXPECT_FALSE(parse_store_name("../etc"));
  EXPECT_FALSE(parse_store_name("/abs"));
  EXPECT_FALSE(parse_store_name(""));
}

TEST(StoreName, PathTricksAndOddCharactersAreRefused) {
  for (const char* bad :
       {"..", ".", ".hidden", "a:..", "a:", ":tag", "a b", "a:b:c", "a\\b", "-x", "a:.", "a\n", "ä"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse_store_name(bad), Error);
  }
  EXPECT_THROW(parse_store_name(std::string(65, 'a')), Error);
  try {
    parse_store_name_or_fail("a:..");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the tag must start with a letter or digit"), std::string::npos)
        << e.what();
  }
}

// A staged folder as an import leaves it: some files and a manifest.
fs::path stage(const ModelStore& s, const std::string& marker) {
  fs::path d = s.make_staging_dir("import");
  std::ofstream(d / "config.json") << marker;
  Manifest m;
  m.name = "m";
  m.tag = marker;
  m.files.push_back({"config.json", marker.size(), "00"});
  write_manifest((d / "manifest.json").string(), m);
  return d;
}

TEST(ModelStore, CommitListReplaceRemove) {
  test::TempDir tmp;
  ModelStore s(tmp.path());
  EXPECT_TRUE(s.list().empty());
  StoreName a{"m", "a"}, b{"m", "b"};
  s.commit(stage(s, "a"), a, false);
  s.commit(stage(s, "b"), b, false);
  ASSERT_EQ(s.list().size(), 2u);
  EXPECT_EQ(s.list()[0].name.str(), "m:a");
  EXPECT_EQ(s.list()[1].manifest.tag, "b");
  // The same name again: refused without replace, and the staged copy is left to the caller.
  fs::path again = stage(s, "a2");
  EXPECT_THROW(s.commit(again, a, false), Error);
  EXPECT_EQ(test::read_file((*s.find(a) / "config.json").string()), "a");
  s.commit(again, a, true);
  EXPECT_EQ(test::read_file((*s.find(a) / "config.json").string()), "a2");
  EXPECT_FALSE(fs::exists(again)) << "the replaced entry was not removed";
  s.remove(a);
  EXPECT_FALSE(s.find(a));
  EXPECT_THROW(s.remove(a), Error);
  s.remove(b);
  EXPECT_FALSE(fs::exists(tmp.path() / "models" / "m")) << "an empty name folder was left";
  EXPECT_TRUE(fs::is_empty(tmp.path() / "tmp"));
}

TEST(ModelStore, StagingLeftByADeadProcessIsRemovedAndNeverListed) {
  test::TempDir tmp;
  ModelStore s(tmp.path());
  pid_t child = ::fork();
  if (child == 0) _exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer runs
  fs::path dead = tmp.path() / "tmp" / ("import-" + std::to_string(child) + "-0000abcd");
  fs::create_directories(dead);
  std::ofstream(dead / "manifest.json") << "{}";
  EXPECT_TRUE(s.list().empty());
  fs::path mine = s.make_staging_dir("import");
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(mine));
}

TEST(ModelStore, ResolverFindsStoreNames) {
  test::TempDir tmp;
  ModelStore s(tmp.path());
  s.commit(stage(s, "v1"), StoreName{"m", "v1"}, false);
  ResolveOptions o;
  o.store_dir = tmp.path().string();
  o.hub.offline = true;
  ResolvedModel r = resolve_model("m:v1", o);
  EXPECT_EQ(fs::path(r.dir), tmp.path() / "models" / "m" / "v1");
  EXPECT_EQ(r.served_name(), "m:v1");
  try {
    resolve_model("m", o);  // m:latest is not there
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model m:latest in the store"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_model("m:..", o), Error);
}

TEST(ModelStore, RootFromFlagThenEnvironment) {
  EXPECT_EQ(default_store_root("/x"), fs::path("/x"));
  ::setenv("R1SERVE_HOME", "/y", 1);
  EXPECT_EQ(default_store_root(), fs::path("/y"));
  ::unsetenv("R1SERVE_HOME");
  ::setenv("XDG_CACHE_HOME", "/c", 1);
  EXPECT_EQ(default_store_root(), fs::path("/c/r1serve"));
  ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace r1::store
