// The Hub cache layout. Fixtures are cache trees built with plain file operations exactly as huggingface_hub
// lays them out (blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>, refs/<revision> holding the
// bare commit), so the code is checked against the layout, not against itself.
#include "store/hub_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>

#include "core/error.h"
#include "store/hub_client.h"
#include "support/test_support.h"

namespace r1::store {
namespace {

namespace fs = std::filesystem;
using r1::test::read_file;
using r1::test::TempDir;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOther = "fedcba9876543210fedcba9876543210fedcba98";

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

// models--org--name as `hf download org/name` leaves it: two files of one snapshot, refs/main.
fs::path hf_style_repo(const fs::path& cache) {
  fs::path repo = cache / "models--org--name";
  write(repo / "blobs" / "aaaa", "{\"architectures\": []}");
  write(repo / "blobs" / "bbbb", "weights");
  fs::create_directories(repo / "snapshots" / kCommit / "sub");
  fs::create_symlink("../../blobs/aaaa", repo / "snapshots" / kCommit / "config.json");
  fs::create_symlink("../../../blobs/bbbb", repo / "snapshots" / kCommit / "sub" / "w.safetensors");
  write(repo / "refs" / "main", kCommit);  // no newline, as huggingface_hub writes it
  return repo;
}

TEST(HubCache, NamesAndPaths) {
  EXPECT_EQ(repo_folder_name("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"),
            "models--deepseek-ai--DeepSeek-R1-Distill-Qwen-7B");
  HubCache c("/c");
  EXPECT_EQ(c.blob_path("o/n", "e"), fs::path("/c/models--o--n/blobs/e"));
  EXPECT_EQ(c.incomplete_path("o/n", "e"), fs::path("/c/models--o--n/blobs/e.incomplete"));
  EXPECT_EQ(c.snapshot_dir("o/n", kCommit), fs::path("/c/models--o--n/snapshots/" + kCommit));
  EXPECT_EQ(c.ref_path("o/n", "refs/pr/1"), fs::path("/c/models--o--n/refs/refs/pr/1"));
  EXPECT_EQ(c.lock_path("o/n", "e"), fs::path("/c/.locks/models--o--n/e.lock"));
}

TEST(HubCache, EtagsAreNormalizedAndCheckedAsFileNames) {
  EXPECT_EQ(normalize_etag("\"abc123\""), "abc123");
  EXPECT_EQ(normalize_etag("W/\"abc123\""), "abc123");
  EXPECT_EQ(normalize_etag("abc123"), "abc123");
  for (const char* bad : {"\"\"", "\"../x\"", "\"a/b\"", "\".hidden\""})
    EXPECT_THROW(normalize_etag(bad), Error) << bad;
}

TEST(HubCache, FindsACommitThroughRefsOrByHash) {
  TempDir t;
  hf_style_repo(t.path());
  HubCache c(t.path());
  EXPECT_EQ(c.find_commit("org/name", "main"), kCommit);
  EXPECT_EQ(c.find_commit("org/name", kCommit), kCommit);
  EXPECT_FALSE(c.find_commit("org/name", "v2"));     // no refs/v2
  EXPECT_FALSE(c.find_commit("org/name", kOther));   // no such snapshot
  EXPECT_FALSE(c.find_commit("org/other", "main"));  // no such repo
  EXPECT_TRUE(c.has_snapshot_file("org/name", kCommit, "config.json"));
  EXPECT_TRUE(c.has_snapshot_file("org/name", kCommit, "sub/w.safetensors"));
  EXPECT_FALSE(c.has_snapshot_file("org/name", kCommit, "tokenizer.json"));
}

TEST(HubCache, ARefToAMissingSnapshotIsNotFoundAndABadRefIsAnError) {
  TempDir t;
  fs::path repo = hf_style_repo(t.path());
  write(repo / "refs" / "v1", kOther);
  write(repo / "refs" / "broken", "not a hash\n");
  HubCache c(t.path());
  EXPECT_FALSE(c.find_commit("org/name", "v1"));
  try {
    c.find_commit("org/name", "broken");
    ADD_FAILURE() << "a ref without a commit hash was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("refs/broken"), std::string::npos) << e.what();
  }
}

TEST(HubCache, WritesRefsAndRelativeLinksAsHuggingfaceHubDoes) {
  TempDir t;
  HubCache c(t.path());
  write(c.blob_path("org/name", "cccc"), "tokenizer");
  c.link_snapshot_file("org/name", kCommit, "tokenizer.json", "cccc");
  c.link_snapshot_file("org/name", kCommit, "a/b/nested.json", "cccc");
  fs::path snap = c.snapshot_dir("org/name", kCommit);
  EXPECT_EQ(fs::read_symlink(snap / "tokenizer.json"), fs::path("../../blobs/cccc"));
  EXPECT_EQ(fs::read_symlink(snap / "a/b/nested.json"), fs::path("../../../../blobs/cccc"));
  EXPECT_EQ(read_file((snap / "a/b/nested.json").string()), "tokenizer");
  // Relinking replaces the entry (a newer blob for the same commit's file is never partial).
  write(c.blob_path("org/name", "dddd"), "tokenizer v2");
  c.link_snapshot_file("org/name", kCommit, "tokenizer.json", "dddd");
  EXPECT_EQ(read_file((snap / "tokenizer.json").string()), "tokenizer v2");
  for (const auto& e : fs::directory_iterator(snap))  // no temporary names left behind
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();

  c.write_ref("org/name", "main", kCommit);
  c.write_ref("org/name", "refs/pr/1", kCommit);
  c.write_ref("org/name", kCommit, kCommit);  // a commit needs no ref
  EXPECT_EQ(read_file(c.ref_path("org/name", "main").string()), kCommit);
  EXPECT_EQ(read_file(c.ref_path("org/name", "refs/pr/1").string()), kCommit);
  EXPECT_FALSE(fs::exists(c.ref_path("org/name", kCommit)));
  EXPECT_EQ(c.find_commit("org/name", "refs/pr/1"), kCommit);
}

TEST(HubCache, FileLockIsExclusiveAcrossOpenFiles) {
  TempDir t;
  fs::path lock = t.path() / ".locks" / "models--o--n" / "e.lock";
  {
    FileLock a(lock);
    // flock locks belong to open file descriptions: a second open of the same file must not get it.
    int fd = ::open(lock.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
    ::close(fd);
  }
  int fd = ::open(lock.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // released with the FileLock
  ::close(fd);
}

TEST(HubClient, StatusMessagesNameTheModelAndHintAtTheToken) {
  std::string m401 = HubClient::status_message(401, "org/name", "http://h/api", "RepoNotFound", "", false);
  EXPECT_NE(m401.find("org/name"), std::string::npos);
  EXPECT_NE(m401.find("HF_TOKEN"), std::string::npos);
  std::string m403 =
      HubClient::status_message(403, "org/name: config.json", "u", "GatedRepo", "restricted", true);
  EXPECT_NE(m403.find("gated"), std::string::npos);
  EXPECT_NE(m403.find("refused"), std::string::npos);
  EXPECT_NE(m403.find("restricted"), std::string::npos);
  EXPECT_NE(HubClient::status_message(404, "org/name@x", "u", "RevisionNotFound", "", false)
                .find("revision not found"),
            std::string::npos);
  EXPECT_NE(HubClient::status_message(404, "o/n: f", "u", "EntryNotFound", "", false).find("file not found"),
            std::string::npos);
}

TEST(HubClient, UrlEncoding) {
  EXPECT_EQ(url_encode("refs/pr/1", false), "refs%2Fpr%2F1");
  EXPECT_EQ(url_encode("sub dir/a+b.json", true), "sub%20dir/a%2Bb.json");
}

}  // namespace
}  // namespace r1::store
