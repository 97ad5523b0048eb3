// Dataset readers on the real shared files and on crafted malformed ones (errors name file and line).
#include "bench/dataset.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "support/test_support.h"

namespace r1::bench {
namespace {

using r1::test::shared_path;
using r1::test::TempDir;

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::string p = d.file(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string error_of(const std::string& path, DatasetFormat f) {
  try {
    load_dataset(path, f, 0);
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Dataset, Gsm8kSharedFile) {
  R1_REQUIRE_SHARED();
  std::string path = shared_path("datasets/gsm8k/test.jsonl");
  EXPECT_EQ(detect_format(path), DatasetFormat::kGsm8k);
  auto prompts = load_dataset(path, DatasetFormat::kAuto, 20);
  ASSERT_EQ(prompts.size(), 20u);
  EXPECT_EQ(prompts[0].text.rfind("Janet", 0), 0u);
  EXPECT_EQ(prompts[0].reference_answer, "18");
  EXPECT_EQ(prompts[0].source, path + ":1");
  EXPECT_EQ(load_dataset(path, DatasetFormat::kGsm8k, 0).size(), 1319u);
}

TEST(Dataset, ShareGptAndMtBenchSharedFiles) {
  R1_REQUIRE_SHARED();
  std::string sg = shared_path("datasets/sharegpt/ShareGPT_V3_filtered_500.json");
  auto a = load_dataset(sg, DatasetFormat::kAuto, 3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].text, "How to stop automatic updates from the WSUS Server to a target machine");
  std::string mt = shared_path("datasets/mt_bench/question.jsonl");
  EXPECT_EQ(detect_format(mt), DatasetFormat::kMtBench);
  auto b = load_dataset(mt, DatasetFormat::kAuto, 0);
  ASSERT_EQ(b.size(), 80u);
  EXPECT_EQ(b[0].text.rfind("Compose an engaging travel blog post", 0), 0u);
}

TEST(Dataset, TextLinesSkipBlankLines) {
  TempDir d;
  std::string p = write(d, "prompts.txt", "first prompt\r\n\n   \nsecond prompt\nthird");
  auto got = load_dataset(p, DatasetFormat::kAuto, 0);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].text, "first prompt");
  EXPECT_EQ(got[1].source, p + ":4");
  EXPECT_EQ(got[2].text, "third");
  EXPECT_EQ(load_dataset(p, DatasetFormat::kText, 2).size(), 2u);
}

TEST(Dataset, MalformedJsonLineNamesFileAndLine) {
  TempDir d;
  std::string p = write(d, "g.jsonl",
                        "{\"question\": \"q1\", \"answer\": \"#### 1\"}\n\n{\"question\": \"q2\", \"answ\n");
  std::string err = error_of(p, DatasetFormat::kGsm8k);
  EXPECT_NE(err.find(p + ":3:"), std::string::npos) << err;
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
}

TEST(Dataset, MissingOrWrongFieldsNameTheLine) {
  TempDir d;
  std::string g = write(d, "g.jsonl", "{\"question\": \"ok\"}\n{\"question\": 5}\n");
  EXPECT_NE(error_of(g, DatasetFormat::kGsm8k).find(g + ":2: \"question\" is a number"), std::string::npos);
  std::string noans = write(d, "n.jsonl", "{\"question\": \"q\", \"answer\": \"no hashes\"}\n");
  EXPECT_NE(error_of(noans, DatasetFormat::kGsm8k).find(noans + ":1: \"answer\" has no"), std::string::npos);
  std::string mt = write(d, "m.jsonl", "{\"turns\": [\"a\"]}\n[1, 2]\n");
  EXPECT_NE(error_of(mt, DatasetFormat::kMtBench).find(mt + ":2: expected a JSON object"), std::string::npos);
  std::string mt2 = write(d, "m2.jsonl", "{\"turns\": []}\n");
  EXPECT_NE(error_of(mt2, DatasetFormat::kMtBench).find(mt2 + ":1:"), std::string::npos);
}

TEST(Dataset, ShareGptErrors) {
  TempDir d;
  std::string syntax = write(d, "s.json", "[\n{\"conversations\": []},\n{oops}\n]");
  EXPECT_NE(error_of(syntax, DatasetFormat::kShareGpt).find(syntax + ":3:"), std::string::npos)
      << error_of(syntax, DatasetFormat::kShareGpt);
  std::string nohuman = write(d, "h.json", R"([{"conversations": [{"from": "human", "value": "hi"}]},
                             {"conversations": [{"from": "gpt", "value": "hello"}]}])");
  std::string err = error_of(nohuman, DatasetFormat::kShareGpt);
  EXPECT_NE(err.find(nohuman + ": entry 1: no human turn"), std::string::npos) << err;
  std::string notarray = write(d, "o.json", "{\"a\": 1}");
  EXPECT_NE(error_of(notarray, DatasetFormat::kShareGpt).find("expected a JSON array"), std::string::npos);
}

TEST(Dataset, UnknownJsonlAndEmptyFiles) {
  TempDir d;
  std::string odd = write(d, "odd.jsonl", "\n{\"text\": \"x\"}\n");
  EXPECT_NE(error_of(odd, DatasetFormat::kAuto).find(odd + ":2: cannot tell the dataset format"),
            std::string::npos);
  std::string empty = write(d, "empty.txt", "\n\n");
  EXPECT_NE(error_of(empty, DatasetFormat::kText).find("no prompts"), std::string::npos);
  EXPECT_NE(error_of(d.file("missing.txt"), DatasetFormat::kText).find("cannot open"), std::string::npos);
  EXPECT_THROW(parse_dataset_format("csv"), r1::Error);
}

}  // namespace
}  // namespace r1::bench
