// `r1serve serve --model FILE.gguf`: a k-quant GGUF file served as it is — config, weights and tokenizer all
// from the file — answers a completion with llama.cpp's greedy ids (decoded by the file's own vocabulary).
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "store/sha256.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

TEST(GgufServe, CompletionFromAKQuantFileFollowsTheGoldenGreedyPath) {
  R1_REQUIRE_SHARED();
  const std::string gguf = shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q4_K_M.gguf");
  const auto golden = read_json(shared_path("golden/tiny-qwen2-kq-Q4_K_M/manifest.json"))["cases"][0];
  // --dtype f32 --kv-cache-dtype f32: the exact path, so the greedy ids are llama.cpp's on the dequantized
  // twin.
  ServerProcess server({"--model", gguf, "--dtype", "f32", "--kv-cache-dtype", "f32"});
  ASSERT_TRUE(server.healthy()) << server.log();

  auto models = http_request(server.port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_EQ(nlohmann::json::parse(models.body)["data"][0]["id"], "tiny-qwen2-kq-Q4_K_M");

  nlohmann::json req = {{"model", "tiny-qwen2-kq-Q4_K_M"},
                        {"prompt", golden["ids"]},
                        {"max_tokens", 8},
                        {"temperature", 0},
                        {"ignore_eos", true}};
  auto r =
      http_request(server.port(), "POST", "/v1/completions", req.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 200) << r.body;
  // The stand-in vocabulary spells token N as "<tN>", so the text is the ids themselves.
  std::string want;
  for (size_t i = 0; i < 8; ++i) want += "<t" + std::to_string(golden["greedy32"][i].get<int>()) + ">";
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["choices"][0]["text"], want) << r.body;
  EXPECT_EQ(body["usage"]["prompt_tokens"], golden["ids"].size());
}

TEST(GgufServe, AFileWithoutTemplateRefusesChatClearly) {
  R1_REQUIRE_SHARED();
  ServerProcess server({"--model", shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q8_0.gguf")});
  ASSERT_TRUE(server.healthy()) << server.log();
  nlohmann::json req = {{"model", "tiny-qwen2-kq-Q8_0"},
                        {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                        {"max_tokens", 2}};
  auto r = http_request(server.port(), "POST", "/v1/chat/completions", req.dump(),
                        {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("template"), std::string::npos) << r.body;
}

// stories260K's GGUF copy (SentencePiece vocabulary in the file, llama q/k rows interleaved) generates the
// text its safetensors folder does, directly and once imported into the store (as the GGUF file, or packed).
TEST(GgufRun, TextFromTheFileMatchesTheSafetensorsFolderAndSurvivesImport) {
  R1_REQUIRE_SHARED();
  TempDir tmp;
  ::setenv("R1SERVE_HOME", tmp.file("store").c_str(), 1);
  auto generate = [](const std::string& model) {
    return run_r1serve({"run", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "24",
                        "--temperature", "0", "--kv-cache-dtype", "f32"});
  };
  const std::string gguf = shared_path("models/stories260K-hf/gguf/stories260K-F32.gguf");
  CommandResult want = generate(shared_path("models/stories260K-hf"));
  ASSERT_EQ(want.exit_code, 0) << want.err;
  ASSERT_GT(want.out.size(), 40u) << want.out;
  CommandResult got = generate(gguf);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, want.out);

  CommandResult imp = run_r1serve({"import", gguf, "--name", "stories:gguf"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  CommandResult ls = run_r1serve({"list"});
  EXPECT_NE(ls.out.find("stories:gguf"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("gguf"), std::string::npos) << ls.out;
  got = generate("stories:gguf");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, want.out);

  imp = run_r1serve({"import", gguf, "--name", "stories:q8", "--dtype", "q8"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  got = generate("stories:q8");
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_GT(got.out.size(), 40u) << got.out;

  // A GGUF file the loader refuses is not imported.
  std::string bytes = read_file(gguf);
  bytes.resize(bytes.size() / 2);
  std::ofstream(tmp.file("half.gguf"), std::ios::binary) << bytes;
  imp = run_r1serve({"import", tmp.file("half.gguf"), "--name", "stories:half"});
  EXPECT_EQ(imp.exit_code, 1);
  EXPECT_NE(imp.err.find("half.gguf"), std::string::npos) << imp.err;
  ::unsetenv("R1SERVE_HOME");
}

// --model ollama:NAME[:TAG]: a store laid out as Ollama lays it out (manifest + sha256-named blobs) serves
// its GGUF model by name; a blob whose bytes do not match its digest is refused.
TEST(GgufOllama, StoreLayoutResolvesVerifiesAndRuns) {
  R1_REQUIRE_SHARED();
  TempDir tmp;
  namespace fs = std::filesystem;
  const std::string gguf = shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q6_K.gguf");
  const std::string hex = store::sha256_file(gguf);
  fs::create_directories(tmp.path() / "blobs");
  fs::copy_file(gguf, tmp.path() / "blobs" / ("sha256-" + hex));
  const fs::path mdir = tmp.path() / "manifests" / "registry.ollama.ai" / "library" / "tiny";
  fs::create_directories(mdir);
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"layers",
                              {{{"mediaType", "application/vnd.ollama.image.model"},
                                {"digest", "sha256:" + hex},
                                {"size", fs::file_size(gguf)}}}}};
  std::ofstream(mdir / "q6") << manifest.dump();
  ::setenv("OLLAMA_MODELS", tmp.path().c_str(), 1);
  ::setenv("R1SERVE_HOME", tmp.file("r1serve").c_str(), 1);  // where verified blobs are remembered

  const auto golden = read_json(shared_path("golden/tiny-qwen2-kq-Q6_K/manifest.json"))["cases"][0];
  std::string ids, want;
  for (const auto& id : golden["ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  for (size_t i = 0; i < 8; ++i) want += std::to_string(golden["greedy32"][i].get<int>()) + "\n";
  auto run = [&](const std::string& model) {
    return run_r1serve({"run", "--model", model, "--dtype", "f32", "--kv-cache-dtype", "f32", "--prompt-ids",
                        ids, "--max-tokens", "8", "--temperature", "0", "--ignore-eos", "--output", "ids"});
  };
  CommandResult r = run("ollama:tiny:q6");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want);

  r = run("ollama:tiny:nope");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no manifest"), std::string::npos) << r.err;

  {  // one flipped byte in the blob
    std::fstream f(tmp.path() / "blobs" / ("sha256-" + hex), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  r = run("ollama:tiny:q6");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not match the manifest's digest"), std::string::npos) << r.err;
  ::unsetenv("OLLAMA_MODELS");
  ::unsetenv("R1SERVE_HOME");
}

}  // namespace
}  // namespace r1::test
