// Ollama's store read in place: names as Ollama spells them (other namespaces, hf.co and other hosts), the
// listing `r1serve list` shows (broken manifests are warnings, not failures), resolution by name, and the
// sha256 check of a blob: refused when corrupt at the first load, and when changed after a load that passed
// (the remembered identity includes the inode and ctime, so even a same-size rewrite with its mtime put back
// is caught). Every store is laid out by the test exactly as Ollama lays it out.
#include "store/ollama_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../model/gguf_builder.h"
#include "core/error.h"
#include "store/gguf_summary.h"
#include "store/sha256.h"
#include "store/verified_blobs.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using store::OllamaName;
using store::VerifiedBlobs;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// An Ollama models folder made by the test: blobs named by their sha256, manifests at
// manifests/HOST/NAMESPACE/MODEL/TAG pointing at them.
class OllamaLayout {
 public:
  explicit OllamaLayout(fs::path root) : root_(std::move(root)) { fs::create_directories(root_ / "blobs"); }
  const fs::path& root() const { return root_; }
  // Stores `bytes` as a blob; returns its hex digest.
  std::string blob(const std::string& bytes) {
    const fs::path tmp = root_ / "blobs" / "incoming";
    std::ofstream(tmp, std::ios::binary) << bytes;
    const std::string hex = store::sha256_file(tmp);
    fs::rename(tmp, blob_path(hex));
    return hex;
  }
  fs::path blob_path(const std::string& hex) const { return root_ / "blobs" / ("sha256-" + hex); }
  // A manifest with a config blob (Ollama's description) and the model layer, as `ollama pull` writes it.
  fs::path manifest(const std::string& rel, const std::string& model_hex,
                    const std::string& file_type = "F32") {
    const nlohmann::json config = {{"model_format", "gguf"},
                                   {"model_family", "qwen2"},
                                   {"model_type", "10.5K"},
                                   {"file_type", file_type}};
    const std::string cfg = config.dump();
    const std::string cfg_hex = blob(cfg);
    const nlohmann::json m = {{"schemaVersion", 2},
                              {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                              {"config",
                               {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                                {"digest", "sha256:" + cfg_hex},
                                {"size", cfg.size()}}},
                              {"layers",
                               {{{"mediaType", "application/vnd.ollama.image.model"},
                                 {"digest", "sha256:" + model_hex},
                                 {"size", fs::file_size(blob_path(model_hex))}},
                                {{"mediaType", "application/vnd.ollama.image.license"},
                                 {"digest", "sha256:" + cfg_hex},
                                 {"size", 7}}}}};
    return raw_manifest(rel, m.dump());
  }
  fs::path raw_manifest(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / "manifests" / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path root_;
};

std::string tiny_model_bytes(uint32_t type_of_q = 0) {
  GgufBuilder g = tiny_gguf_model();
  g.kv_u32("general.file_type", 0);
  if (type_of_q) g.tensors[3].type = type_of_q;
  return g.bytes();
}

class OllamaStore : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("OLLAMA_MODELS", tmp_.file("ollama").c_str(), 1); }
  void TearDown() override { ::unsetenv("OLLAMA_MODELS"); }
  fs::path cache() const { return tmp_.path() / "r1serve" / store::kOllamaVerifiedBlobsFile; }
  // A blob changed less than 2 s ago is hashed but not remembered (verified_blobs.h); tests of what is
  // remembered let their freshly written blobs age first.
  static void let_age() { std::this_thread::sleep_for(std::chrono::milliseconds(2100)); }
  TempDir tmp_;
  OllamaLayout layout_{tmp_.path() / "ollama"};
};

TEST(OllamaName, ParsesEveryFormOllamaWrites) {
  struct Case {
    std::string in, host, ns, model, tag, display;
  };
  const std::vector<Case> cases = {
      {"deepseek-r1", "registry.ollama.ai", "library", "deepseek-r1", "latest", "deepseek-r1:latest"},
      {"deepseek-r1:7b", "registry.ollama.ai", "library", "deepseek-r1", "7b", "deepseek-r1:7b"},
      {"huihui_ai/deepseek-r1-abliterated:8b", "registry.ollama.ai", "huihui_ai", "deepseek-r1-abliterated",
       "8b", "huihui_ai/deepseek-r1-abliterated:8b"},
      {"hf.co/bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF:Q4_K_M", "hf.co", "bartowski",
       "DeepSeek-R1-Distill-Qwen-7B-GGUF", "Q4_K_M",
       "hf.co/bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF:Q4_K_M"},
      {"registry.ollama.ai/library/qwen2.5:0.5b", "registry.ollama.ai", "library", "qwen2.5", "0.5b",
       "qwen2.5:0.5b"},
      {"example.com/library/m:t", "example.com", "library", "m", "t", "example.com/library/m:t"},
  };
  for (const auto& c : cases) {
    OllamaName n = store::parse_ollama_name(c.in);
    EXPECT_EQ(n.host, c.host) << c.in;
    EXPECT_EQ(n.ns, c.ns) << c.in;
    EXPECT_EQ(n.model, c.model) << c.in;
    EXPECT_EQ(n.tag, c.tag) << c.in;
    EXPECT_EQ(n.display(), c.display) << c.in;
    EXPECT_EQ(store::parse_ollama_name(n.display()).manifest_path(), n.manifest_path()) << c.in;
  }
  EXPECT_EQ(store::parse_ollama_name("hf.co/u/r:Q8_0").manifest_path(), fs::path("manifests/hf.co/u/r/Q8_0"));
}

TEST(OllamaName, RefusesNamesThatCouldLeaveTheStore) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "the model is empty"},
      {"m:", "the tag is empty"},
      {"../m", "the namespace \"..\" has the character '.'"},
      {"h/../m", "the namespace \"..\""},
      {"../x/m", "the host \"..\" starts with '.' or has \"..\""},
      {"a/b/c/d", "at most HOST/NAMESPACE/MODEL:TAG"},
      {"m:..", "the tag \"..\""},
      {"m@sha256-00", "the model \"m@sha256-00\" has the character '@'"},
      {"/abs", "the namespace is empty"},
      {"a.b/m", "the namespace \"a.b\" has the character '.'"},
      {"m:t/x", "the namespace \"m:t\" has the character ':'"},
      {std::string(200, 'x'), "more than 128 characters"},
  };
  for (const auto& [name, want] : bad) {
    const std::string e = error_of([&] { store::parse_ollama_name(name); });
    EXPECT_NE(e.find("Ollama name \"" + name + "\""), std::string::npos) << name << ": " << e;
    EXPECT_NE(e.find(want), std::string::npos) << name << ": " << e;
  }
}

TEST_F(OllamaStore, ResolvesEveryNamespaceAndHost) {
  const std::string hex = layout_.blob(tiny_model_bytes());
  layout_.manifest("registry.ollama.ai/library/tiny/latest", hex);
  layout_.manifest("registry.ollama.ai/someone/tiny/v1", hex);
  layout_.manifest("hf.co/bartowski/Tiny-GGUF/Q4_K_M", hex);
  const fs::path want = layout_.blob_path(hex);
  for (const char* name : {"tiny", "tiny:latest", "registry.ollama.ai/library/tiny:latest", "someone/tiny:v1",
                           "hf.co/bartowski/Tiny-GGUF:Q4_K_M",
                           // Ollama matches names without regard to case
                           "HF.CO/Bartowski/tiny-gguf:q4_k_m", "Tiny:LATEST"})
    EXPECT_EQ(store::resolve_ollama_model(name, cache()), want) << name;
  const std::string e = error_of([&] { store::resolve_ollama_model("bartowski/Tiny-GGUF:Q4_K_M"); });
  EXPECT_NE(e.find("no manifest at " + (layout_.root() / "manifests/registry.ollama.ai/bartowski").string()),
            std::string::npos)
      << e;
}

TEST_F(OllamaStore, CorruptBlobIsRefusedAtTheFirstLoad) {
  const std::string bytes = tiny_model_bytes();
  const std::string hex = layout_.blob(bytes);
  layout_.manifest("registry.ollama.ai/library/tiny/latest", hex);
  {  // same size, one byte different: only the digest can tell
    std::fstream f(layout_.blob_path(hex), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put(char(bytes[100] ^ 1));
  }
  const std::string e = error_of([&] { store::resolve_ollama_model("tiny", cache()); });
  EXPECT_NE(e.find(layout_.blob_path(hex).string() + ": sha256 "), std::string::npos) << e;
  EXPECT_NE(e.find("does not match the manifest's digest " + hex), std::string::npos) << e;
  EXPECT_NE(e.find("manifests/registry.ollama.ai/library/tiny/latest"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  // ...and again: a refused blob is never remembered as verified.
  EXPECT_FALSE(error_of([&] { store::resolve_ollama_model("tiny", cache()); }).empty());
}

TEST_F(OllamaStore, BlobChangedAfterAVerifiedLoadIsRefused) {
  const std::string bytes = tiny_model_bytes();
  const std::string hex = layout_.blob(bytes);
  const fs::path blob = layout_.blob_path(hex);
  const VerifiedBlobs v(cache());
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);  // just written: not yet remembered
  let_age();
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);
  EXPECT_TRUE(fs::exists(cache()));
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Remembered);  // unchanged: not hashed again

  // Rewritten in place, same size, and its mtime put back as it was: the ctime still moves.
  struct stat before {};
  ASSERT_EQ(::stat(blob.c_str(), &before), 0);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put(char(bytes[200] ^ 0x40));
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, blob.c_str(), times, 0), 0);
  std::string e = error_of([&] { v.check(blob, hex, "m"); });
  EXPECT_NE(e.find("does not match the manifest's digest"), std::string::npos) << e;

  // Put right again (hashed), then replaced by a rename with a file of other bytes.
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);
  std::string other = bytes;
  other[300] ^= 1;
  std::ofstream(tmp_.file("other"), std::ios::binary) << other;
  fs::rename(tmp_.file("other"), blob);
  e = error_of([&] { v.check(blob, hex, "m"); });
  EXPECT_NE(e.find("does not match the manifest's digest"), std::string::npos) << e;

  // The same through the resolver: a load passes, the blob changes, the next load is refused.
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
  layout_.manifest("registry.ollama.ai/library/tiny/latest", hex);
  EXPECT_EQ(store::resolve_ollama_model("tiny", cache()), blob);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(50);
    f.put(char(bytes[50] ^ 2));
  }
  e = error_of([&] { store::resolve_ollama_model("tiny", cache()); });
  EXPECT_NE(e.find("does not match the manifest's digest"), std::string::npos) << e;
}

TEST_F(OllamaStore, UnreadableCacheOnlyCostsAHash) {
  const std::string hex = layout_.blob(tiny_model_bytes());
  const fs::path blob = layout_.blob_path(hex);
  fs::create_directories(cache().parent_path());
  std::ofstream(cache()) << "{not json";
  let_age();
  const VerifiedBlobs v(cache());
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);
  EXPECT_EQ(v.check(blob, hex, "m"), VerifiedBlobs::Outcome::Remembered);  // rewritten as a good cache
  EXPECT_EQ(VerifiedBlobs("").check(blob, hex, "m"), VerifiedBlobs::Outcome::Hashed);  // no cache at all
}

TEST_F(OllamaStore, ListsModelsAndWarnsAboutBrokenManifests) {
  const std::string good = layout_.blob(tiny_model_bytes());
  const std::string q2 = layout_.blob(tiny_model_bytes(10));
  layout_.manifest("registry.ollama.ai/library/tiny/latest", good);
  layout_.manifest("registry.ollama.ai/someone/tiny/v1", good);
  layout_.manifest("hf.co/bartowski/Tiny-GGUF/Q2_K", q2, "Q2_K");
  const fs::path bad_json =
      layout_.raw_manifest("registry.ollama.ai/library/broken/latest", "{\"layers\": [");
  const fs::path no_model =
      layout_.raw_manifest("registry.ollama.ai/library/cloud/latest", R"({"layers": []})");
  const fs::path no_blob = layout_.raw_manifest(
      "registry.ollama.ai/library/gone/latest",
      R"({"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:)" +
          std::string(64, 'a') + R"(", "size": 1}]})");
  layout_.raw_manifest("registry.ollama.ai/library/tiny/.latest.tmp", "partial");  // hidden: not listed
  layout_.raw_manifest("registry.ollama.ai/stray", "not at a manifest's depth");

  store::OllamaListing l = store::list_ollama_models(layout_.root());
  std::vector<std::string> names;
  for (const auto& m : l.models) names.push_back(m.name.display());
  EXPECT_EQ(names,
            (std::vector<std::string>{"hf.co/bartowski/Tiny-GGUF:Q2_K", "someone/tiny:v1", "tiny:latest"}));
  const store::OllamaModel& tiny = l.models[2];
  EXPECT_EQ(tiny.model_blob, layout_.blob_path(good));
  EXPECT_EQ(tiny.digest, "sha256:" + good);
  EXPECT_EQ(tiny.model_bytes, fs::file_size(layout_.blob_path(good)));
  EXPECT_GT(tiny.total_bytes, tiny.model_bytes);  // config and license layers count too, as in `ollama list`
  EXPECT_EQ(tiny.family, "qwen2");
  EXPECT_EQ(tiny.parameter_size, "10.5K");
  EXPECT_EQ(tiny.modified.size(), 20u) << tiny.modified;  // 2026-01-02T03:04:05Z
  EXPECT_EQ(l.models[0].file_type, "Q2_K");

  ASSERT_EQ(l.warnings.size(), 3u);
  auto warned = [&](const fs::path& p, const std::string& what) {
    for (const auto& w : l.warnings)
      if (w.rfind(p.string() + ": ", 0) == 0 && w.find(what) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(warned(bad_json, "not valid JSON")) << l.warnings[0];
  EXPECT_TRUE(warned(no_model, "no layer of media type application/vnd.ollama.image.model"));
  EXPECT_TRUE(warned(no_blob, "is missing"));

  EXPECT_TRUE(store::list_ollama_models(tmp_.path() / "nowhere").models.empty());
  EXPECT_TRUE(store::list_ollama_models(tmp_.path() / "nowhere").warnings.empty());
}

TEST_F(OllamaStore, GgufSummaryFromTheHeader) {
  const std::string good = layout_.blob(tiny_model_bytes());
  store::GgufSummary s = store::summarize_gguf(layout_.blob_path(good));
  EXPECT_EQ(s.problem, "");
  EXPECT_EQ(s.architecture, "Qwen2ForCausalLM");
  EXPECT_GT(s.parameters, 5'000u);
  EXPECT_EQ(s.file_type, "F32");

  const std::string q2 = layout_.blob(tiny_model_bytes(10));
  s = store::summarize_gguf(layout_.blob_path(q2));
  EXPECT_NE(s.problem.find("unsupported tensor type 10 (Q2_K;"), std::string::npos) << s.problem;
  EXPECT_EQ(store::llama_file_type_name(15), "Q4_K_M");
  EXPECT_EQ(store::llama_file_type_name(18), "Q6_K");
  EXPECT_EQ(store::llama_file_type_name(5), std::nullopt);
}

}  // namespace
}  // namespace r1::test
