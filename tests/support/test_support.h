#pragma once
// Helpers for tests: where ../shared is, running the r1serve binary, temporary folders, and writers for
// crafted safetensors files and tiny random model packages.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace r1::test {

// Absolute path of a file under ../shared.
std::string shared_path(const std::string& rel);
bool shared_available();

// Skips the current test, saying why, when ../shared is not beside the project.
#define R1_REQUIRE_SHARED()                                                                           \
  do {                                                                                                \
    if (!::r1::test::shared_available())                                                              \
      GTEST_SKIP() << "../shared (test assets) not found at " << ::r1::test::shared_path("")          \
                   << "; see ../shared/ASSETS.md";                                                    \
  } while (0)

// tests/js, where scripts/test.sh installs the JavaScript oracles (node_modules); and a skip when it is absent.
std::string js_dir();
#define R1_REQUIRE_JS()                                                                                 \
  do {                                                                                                  \
    if (!std::filesystem::exists(::r1::test::js_dir() + "/node_modules"))                               \
      GTEST_SKIP() << "tests/js/node_modules missing: run npm ci --prefix tests/js (scripts/test.sh does)"; \
  } while (0)

// Names a parameterised test instance after its string parameter ("tiny-qwen2" -> "tiny_qwen2"): every
// character gtest does not allow in a name becomes '_'.
struct ParamName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    std::string s = info.param;
    for (char& c : s)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
  }
};

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs a program with arguments (no shell) and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv);
// Runs the r1serve binary built with the tests.
CommandResult run_r1serve(const std::vector<std::string>& args);

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Builds safetensors files tensor by tensor; the raw form lets tests corrupt any field.
struct SafetensorsBuilder {
  struct Tensor {
    std::string name, dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Tensor> tensors;
  nlohmann::json metadata = nlohmann::json::object();

  void add_f32(const std::string& name, std::vector<uint64_t> shape, const std::vector<float>& values);
  // Header JSON as the builder would write it (tests may edit it before write_raw).
  nlohmann::json header() const;
  std::vector<uint8_t> data() const;
  void write(const std::string& path) const;
  static void write_raw(const std::string& path, const std::string& header_json, const std::vector<uint8_t>& data);
};

// A tiny random model package (config.json, generation_config.json, model.safetensors) in `dir`.
struct TinyModelSpec {
  std::string architecture = "LlamaForCausalLM";
  size_t hidden = 64, ffn = 96, layers = 2, heads = 4, kv_heads = 2, vocab = 128;
  bool tied = false;
  uint32_t seed = 1;
};
nlohmann::json tiny_config(const TinyModelSpec& s);
SafetensorsBuilder tiny_weights(const TinyModelSpec& s);
void write_tiny_model(const std::string& dir, const TinyModelSpec& s);

std::string read_file(const std::string& path);
nlohmann::json read_json(const std::string& path);

}  // namespace r1::test
