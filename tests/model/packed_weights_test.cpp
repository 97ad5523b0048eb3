// The packed weight file (model/packed_weights.h): loading it gives exactly the weights converting at load
// gives — the same bytes in every tensor and bit-identical logits on the golden models at q8, q4 and bf16 —
// and every way the file can be damaged is refused with a message naming the file and the problem.
#include "model/packed_weights.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "engine/generator.h"
#include "support/test_support.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
using test::read_json;
using test::shared_path;
using test::TempDir;

// A package folder beside `src`'s with its weights packed at `p`: config files copied, no safetensors.
void write_packed_package(const std::string& src, const fs::path& dst, WeightPrecision p) {
  fs::create_directories(dst);
  for (const char* f : {"config.json", "generation_config.json"})
    if (fs::exists(fs::path(src) / f)) fs::copy_file(fs::path(src) / f, dst / f);
  auto converted = load_model(src, p);
  write_packed_weights((dst / kPackedWeightsFile).string(), converted->package.config(), converted->weights,
                       p);
}

class PackedGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(PackedGolden, LogitsBitIdenticalToConvertingAtLoad) {
  R1_REQUIRE_SHARED();
  const std::string model_dir = shared_path("models/" + GetParam()),
                    golden = shared_path("golden/" + GetParam());
  nlohmann::json manifest = read_json(golden + "/manifest.json");
  ThreadPool pool(2);
  for (WeightPrecision p : {WeightPrecision::Q8, WeightPrecision::Q4, WeightPrecision::BF16}) {
    SCOPED_TRACE(weight_precision_name(p));
    TempDir tmp;
    write_packed_package(model_dir, tmp.path() / "packed", p);
    auto converted = load_model(model_dir, p);
    auto packed = load_model((tmp.path() / "packed").string(), WeightPrecision::Auto);
    ASSERT_EQ(packed->package.packed_path(), (tmp.path() / "packed" / kPackedWeightsFile).string());
    // Every tensor: same name, format, shape and bytes.
    const auto &a = converted->weights.placed(), &b = packed->weights.placed();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].spec.name, b[i].spec.name);
      EXPECT_EQ(a[i].spec.dtype, b[i].spec.dtype) << a[i].spec.name;
      ASSERT_EQ(a[i].bytes, b[i].bytes) << a[i].spec.name;
      EXPECT_EQ(std::memcmp(a[i].data, b[i].data, a[i].bytes), 0) << a[i].spec.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(b[i].data) % 64, 0u)
          << a[i].spec.name << " is not 64-byte aligned";
    }
    for (const auto& c : manifest["cases"]) {
      auto ids = read_json(golden + "/" + c["ids_file"].get<std::string>()).get<std::vector<int32_t>>();
      Generator g1(*converted, pool, ids.size()), g2(*packed, pool, ids.size());
      std::vector<float> l1 = g1.prompt_logits(ids), l2 = g2.prompt_logits(ids);
      ASSERT_EQ(l1.size(), l2.size());
      EXPECT_EQ(std::memcmp(l1.data(), l2.data(), l1.size() * sizeof(float)), 0)
          << "logits differ for " << c["ids_file"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, PackedGolden,
                         ::testing::Values("stories260K-hf", "tiny-qwen2", "tiny-llama3", "tiny-llama-tied"),
                         test::ParamName());

// Damaged files, on a tiny random model.
class PackedErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_tiny_model(tmp_.file("src"), spec_);
    write_packed_package(tmp_.file("src"), dir(), WeightPrecision::Q8);
    bytes_ = test::read_file(file());
  }
  fs::path dir() const { return tmp_.path() / "packed"; }
  std::string file() const { return (dir() / kPackedWeightsFile).string(); }
  void write(const std::string& b) const { std::ofstream(file(), std::ios::binary) << b; }
  // Loading fails with a message naming the file and holding every needle.
  void expect_refused(const std::vector<std::string>& needles, WeightPrecision p = WeightPrecision::Auto) {
    try {
      load_model(dir().string(), p);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(file()), std::string::npos) << msg;
      for (const auto& n : needles)
        EXPECT_NE(msg.find(n), std::string::npos) << "no \"" << n << "\" in " << msg;
    }
    // Copying instead of mapping refuses it the same way.
    try {
      ModelPackage pkg = ModelPackage::open(dir().string());
      load_packed_weights(file(), pkg.config(), p, PackedLoad::Copy);
      ADD_FAILURE() << "loaded by copy";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file()), std::string::npos) << e.what();
    }
    // The streaming check import uses says the same.
    if (p == WeightPrecision::Auto) {
      ModelPackage pkg = ModelPackage::open(dir().string());
      EXPECT_THROW(Weights::check(pkg), Error);
    }
  }
  test::TinyModelSpec spec_;
  TempDir tmp_;
  std::string bytes_;
};

TEST_F(PackedErrors, IntactFileLoadsAndChecks) {
  auto m = load_model(dir().string(), WeightPrecision::Q8);
  EXPECT_EQ(m->weights.layers.size(), spec_.layers);
  EXPECT_NO_THROW(Weights::check(m->package));
  EXPECT_EQ(check_packed_weights(file(), m->package.config()), WeightPrecision::Q8);
}

// Lines of /proc/self/maps naming `path`: the process's mappings of that file.
int mappings_of(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);)
    if (line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0) ++n;
  return n;
}

TEST_F(PackedErrors, MappedAndCopiedWeightsHoldTheSameBytes) {
  ModelPackage pkg = ModelPackage::open(dir().string());
  Weights mapped = load_packed_weights(file(), pkg.config(), WeightPrecision::Auto, PackedLoad::Map);
  Weights copied = load_packed_weights(file(), pkg.config(), WeightPrecision::Auto, PackedLoad::Copy);
  EXPECT_FALSE(copied.mapped());
  const auto &a = mapped.placed(), &b = copied.placed();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].bytes, b[i].bytes) << a[i].spec.name;
    EXPECT_NE(a[i].data, b[i].data) << a[i].spec.name;
    EXPECT_EQ(std::memcmp(a[i].data, b[i].data, a[i].bytes), 0) << a[i].spec.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a[i].data) % 64, 0u) << a[i].spec.name;
  }
}

// A mapped file is unmapped with the weights (the serverless registry's idle unload must give the memory
// back), and a copy keeps no mapping at all. Mapping needs leave to lock memory; without it the loader
// copies.
TEST_F(PackedErrors, MappingLivesExactlyAsLongAsTheWeights) {
  const std::string real = fs::canonical(file()).string();
  ASSERT_EQ(mappings_of(real), 0);
  {
    auto m = load_model(dir().string(), WeightPrecision::Auto);
    EXPECT_EQ(mappings_of(real), m->weights.mapped() ? 1 : 0);
    if (!m->weights.mapped()) std::printf("this process may not lock memory: the weights were copied\n");
  }
  EXPECT_EQ(mappings_of(real), 0);
  {
    ModelPackage pkg = ModelPackage::open(dir().string());
    Weights w = load_packed_weights(file(), pkg.config(), WeightPrecision::Auto, PackedLoad::Copy);
    EXPECT_EQ(mappings_of(real), 0);
  }
}

TEST_F(PackedErrors, TruncatedData) {
  write(bytes_.substr(0, bytes_.size() - 100));
  expect_refused({"truncated", std::to_string(bytes_.size() - 100) + " bytes"});
}

TEST_F(PackedErrors, TruncatedHeader) {
  write(bytes_.substr(0, 20));
  expect_refused({"truncated", "header"});
}

TEST_F(PackedErrors, TrailingBytes) {
  write(bytes_ + "xx");
  expect_refused({"the header says"});
}

TEST_F(PackedErrors, FlippedWeightByte) {
  std::string b = bytes_;
  b[b.size() - 7] ^= 0x10;  // inside the last tensor (the LM head)
  write(b);
  expect_refused({"lm_head.weight", "checksum", "corrupted"});
}

TEST_F(PackedErrors, FlippedTableByte) {
  std::string b = bytes_;
  b[64 + 20] ^= 0x01;  // the first entry's name
  write(b);
  expect_refused({"tensor table", "checksum"});
}

TEST_F(PackedErrors, NotAPackedFile) {
  write(std::string(bytes_.size(), 'x'));
  expect_refused({"not a packed weight file"});
}

TEST_F(PackedErrors, OtherVersion) {
  std::string b = bytes_;
  b[8] = 9;
  write(b);
  expect_refused({"version 9"});
}

TEST_F(PackedErrors, AnotherModelsFile) {
  // The same file under a config with another layer count.
  nlohmann::json cfg = read_json((dir() / "config.json").string());
  cfg["num_hidden_layers"] = 3;
  std::ofstream(dir() / "config.json") << cfg.dump();
  expect_refused({"another model"});
}

TEST_F(PackedErrors, OtherPrecisionRequested) {
  expect_refused({"packed as q8", "--dtype q4"}, WeightPrecision::Q4);
}

}  // namespace
}  // namespace r1
