// r1serve list through the CLI with an Ollama store beside r1serve's own (both made by the test): every
// Ollama model is listed under the name --model takes, with what its GGUF header says; a model r1serve cannot
// compute says why; a broken manifest is one warning naming it, not a failed list; --json says the same; a
// missing Ollama folder adds nothing. A listed name then serves: the hf.co model runs by the name list
// printed.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "../model/gguf_builder.h"
#include "store/sha256.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

class OllamaList : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("OLLAMA_MODELS", ollama().c_str(), 1);
    ::setenv("R1SERVE_HOME", tmp_.file("r1serve").c_str(), 1);
    fs::create_directories(ollama() / "blobs");
  }
  void TearDown() override {
    ::unsetenv("OLLAMA_MODELS");
    ::unsetenv("R1SERVE_HOME");
  }
  fs::path ollama() const { return tmp_.path() / "ollama"; }
  std::string add_blob(const fs::path& from) {
    const std::string hex = store::sha256_file(from);
    fs::copy_file(from, ollama() / "blobs" / ("sha256-" + hex), fs::copy_options::overwrite_existing);
    return hex;
  }
  fs::path add_manifest(const std::string& rel, const std::string& hex) {
    const fs::path p = ollama() / "manifests" / rel;
    fs::create_directories(p.parent_path());
    const nlohmann::json m = {{"schemaVersion", 2},
                              {"layers",
                               {{{"mediaType", "application/vnd.ollama.image.model"},
                                 {"digest", "sha256:" + hex},
                                 {"size", fs::file_size(ollama() / "blobs" / ("sha256-" + hex))}}}}};
    std::ofstream(p) << m.dump();
    return p;
  }
  TempDir tmp_;
};

TEST_F(OllamaList, ListsOllamaModelsBesideItsOwn) {
  R1_REQUIRE_SHARED();
  const std::string q6 = add_blob(shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q6_K.gguf"));
  add_manifest("hf.co/bartowski/tiny-qwen2-kq-GGUF/Q6_K", q6);
  add_manifest("registry.ollama.ai/library/tiny-kq/q6", q6);
  GgufBuilder g = tiny_gguf_model();
  g.tensors[3].type = 23;  // IQ4_XS
  g.write(tmp_.file("iq4.gguf"));
  add_manifest("registry.ollama.ai/someone/tiny-iq/latest", add_blob(tmp_.file("iq4.gguf")));
  const fs::path broken = ollama() / "manifests/registry.ollama.ai/library/broken/latest";
  fs::create_directories(broken.parent_path());
  std::ofstream(broken) << "{\"layers\": 7}";
  ASSERT_EQ(run_r1serve({"import", shared_path("models/stories260K-hf"), "--name", "stories:own"}).exit_code,
            0);

  CommandResult ls = run_r1serve({"list"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  for (const char* want :
       {"stories:own", "Ollama's models in " /* section */, "ollama:hf.co/bartowski/tiny-qwen2-kq-GGUF:Q6_K",
        "ollama:tiny-kq:q6", "ollama:someone/tiny-iq:latest", "Qwen2ForCausalLM", "gguf Q6_K",
        "ollama:someone/tiny-iq:latest cannot be served: ", "unsupported tensor type 23 (IQ4_XS;"})
    EXPECT_NE(ls.out.find(want), std::string::npos) << want << " not in:\n" << ls.out;
  EXPECT_EQ(ls.out.find("broken"), std::string::npos) << ls.out;
  EXPECT_NE(ls.err.find("warning: " + broken.string() + ": missing \"layers\""), std::string::npos) << ls.err;

  CommandResult js = run_r1serve({"list", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const nlohmann::json j = nlohmann::json::parse(js.out);
  ASSERT_EQ(j["models"].size(), 4u) << js.out;
  EXPECT_EQ(j["models"][0]["store"], "r1serve");
  const nlohmann::json& hf = j["models"][1];
  EXPECT_EQ(hf["name"], "ollama:hf.co/bartowski/tiny-qwen2-kq-GGUF:Q6_K");
  EXPECT_EQ(hf["store"], "ollama");
  EXPECT_EQ(hf["architecture"], "Qwen2ForCausalLM");
  EXPECT_EQ(hf["file_type"], "Q6_K");
  EXPECT_GT(hf["parameters"].get<uint64_t>(), 0u);
  EXPECT_EQ(hf["servable"], true);
  EXPECT_EQ(hf["digest"], "sha256:" + q6);
  const nlohmann::json& iq = j["models"][2];
  EXPECT_EQ(iq["name"], "ollama:someone/tiny-iq:latest");
  EXPECT_EQ(iq["servable"], false);
  EXPECT_NE(iq["problem"].get<std::string>().find("IQ4_XS"), std::string::npos);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find(broken.string()), std::string::npos);

  // The name list printed is what --model takes.
  CommandResult r =
      run_r1serve({"run", "--model", hf["name"], "--dtype", "f32", "--prompt-ids", "1,2,3", "--max-tokens",
                   "2", "--temperature", "0", "--ignore-eos", "--output", "ids"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_r1serve({"run", "--model", iq["name"], "--prompt-ids", "1", "--max-tokens", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("IQ4_XS"), std::string::npos) << r.err;
}

TEST_F(OllamaList, NoOllamaFolderAddsNothing) {
  ::setenv("OLLAMA_MODELS", tmp_.file("nowhere").c_str(), 1);
  CommandResult ls = run_r1serve({"list"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("NAME"), std::string::npos);
  EXPECT_EQ(ls.out.find("Ollama"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.err.find("warning"), std::string::npos) << ls.err;
  const nlohmann::json j = nlohmann::json::parse(run_r1serve({"list", "--json"}).out);
  EXPECT_TRUE(j["models"].empty());
  EXPECT_TRUE(j["warnings"].empty());
}

}  // namespace
}  // namespace r1::test
