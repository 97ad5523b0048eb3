// Hub ids, revisions and repo file names: what is accepted, what is a path, and what is refused (nothing may
// name a place outside the cache folder).
#include "store/model_ref.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "store/hub_pull.h"

namespace r1::store {
namespace {

TEST(ModelRef, ParsesIdAndRevision) {
  auto a = parse_model_ref("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->repo_id, "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  EXPECT_EQ(a->revision, "main");
  auto b = parse_model_ref("org/name@refs/pr/1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->repo_id, "org/name");
  EXPECT_EQ(b->revision, "refs/pr/1");
}

TEST(ModelRef, PathsAreNotHubIds) {
  for (const char* s : {"./org/name", "/abs/org", "a/b/c", "name", "~/models", "org/", "/name", "../x"})
    EXPECT_FALSE(parse_model_ref(s)) << s;
}

TEST(ModelRef, InvalidIdsAndRevisionsAreRefusedWithTheReason) {
  for (const char* s : {"org/na..me", "org--x/y", "org/name@", "org/name@../../etc", "org/name@/abs",
                        "org/-name", "org/na me", "org/name@a b"}) {
    try {
      parse_model_ref(s);
      ADD_FAILURE() << s << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
    }
  }
}

TEST(ModelRef, RepoPathsMustStayInsideTheSnapshot) {
  EXPECT_EQ(repo_path_problem("config.json"), "");
  EXPECT_EQ(repo_path_problem("sub/dir/model.safetensors"), "");
  for (const char* p : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b"})
    EXPECT_NE(repo_path_problem(p), "") << p;
}

TEST(ModelRef, CommitHashes) {
  EXPECT_TRUE(is_commit_hash("8f915e6c7bcf8cfa08033a5c8d14a481b60935b7"));
  EXPECT_FALSE(is_commit_hash("8F915E6C7BCF8CFA08033A5C8D14A481B60935B7"));  // the Hub's are lower case
  EXPECT_FALSE(is_commit_hash("main"));
}

TEST(PullSelection, DefaultsAreTopLevelModelFilesAndIncludeAddsMore) {
  std::vector<RepoFile> files;
  for (const char* p : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors", "model.safetensors.index.json", "README.md",
                        "original/consolidated.safetensors", "pytorch_model.bin", "gguf/x.gguf"})
    files.push_back(RepoFile{p, {}, ""});
  auto names = [](const std::vector<RepoFile>& v) {
    std::vector<std::string> out;
    for (const auto& f : v) out.push_back(f.path);
    return out;
  };
  EXPECT_EQ(names(select_files(files, {})),
            (std::vector<std::string>{"config.json", "generation_config.json", "tokenizer.json",
                                      "tokenizer_config.json", "special_tokens_map.json",
                                      "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                      "model.safetensors.index.json"}));
  // --include is huggingface_hub's allow_patterns: '*' crosses '/'.
  auto more = names(select_files(files, {"*.md", "*.gguf"}));
  EXPECT_NE(std::find(more.begin(), more.end(), "README.md"), more.end());
  EXPECT_NE(std::find(more.begin(), more.end(), "gguf/x.gguf"), more.end());
  EXPECT_EQ(std::find(more.begin(), more.end(), "pytorch_model.bin"), more.end());
}

}  // namespace
}  // namespace r1::store
