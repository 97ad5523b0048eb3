// --dtype auto on every tiny-qwen2-kq GGUF file against llama.cpp running the same quantized file
// (../shared/golden/tiny-qwen2-kq-<T>/caseN_quantized_*.npy): both compute with int8 activations, so the
// logits agree only within a tolerance measured here per type (see kTolerance), and greedy ids agree where
// the golden logits leave a margin that tolerance cannot flip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/npy.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::read_json;
using test::shared_path;

struct TypeCase {
  std::string type;
  double tolerance;  // max |ours - llama.cpp quantized| over every prompt position and teacher-forced step
};
std::ostream& operator<<(std::ostream& o, const TypeCase& c) {
  return o << c.type;
}

// Measured max |ours - llama.cpp quantized| over the 3 cases' prompt rows and 32 teacher-forced steps
// (this test prints them; AVX-512, and AVX2 where it differs): Q8_0 0.138, Q4_0 0.154, Q4_1 0.152, Q5_0
// 0.138, Q5_1 0.164, Q4_K_M 0.291, Q5_K_M 0.250 (0.277), Q6_K 0.246. Neither side is exact: llama.cpp's own
// int8 path is 0.12-0.24 from the exact dequantized reference (ASSETS.md, manifest quantized_vs_dequantized),
// and once one activation rounds differently rows move by up to ~0.15. Every type runs here in its stored
// blocks, as llama.cpp does, so only activation rounding separates the engines: per 32 columns on both sides
// for the 32-column formats, while llama.cpp rounds them per 256 for the k-quants and r1serve per 32, which
// is why those sit higher. (Before Q4_1, Q5_0 and Q5_1 had kernels of their own, they were decoded and
// quantized again to Q8_0 at load, and that second weight rounding put them at 0.28-0.29.) Each tolerance is
// ~1.5x its type's measurement, rounded up to 0.05: that absorbs the rounding noise, and it still sits below
// what the bugs this test exists for move the logits by (ASSETS.md: swapped RoPE pairing >= 3.3, dropped
// q/k/v bias
// >= 1.7, unquantized instead of decoded 4/5-bit weights 0.8-2.5).
const TypeCase kTypes[] = {
    {"Q8_0", 0.25}, {"Q4_0", 0.25},   {"Q4_1", 0.25},   {"Q5_0", 0.25},
    {"Q5_1", 0.25}, {"Q4_K_M", 0.45}, {"Q5_K_M", 0.45}, {"Q6_K", 0.4},
};

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

size_t argmax(const float* row, size_t n) {
  return size_t(std::max_element(row, row + n) - row);
}

// top1 - top2 of a row.
double margin(const float* row, size_t n) {
  std::vector<float> v(row, row + n);
  std::partial_sort(v.begin(), v.begin() + 2, v.end(), std::greater<float>());
  return double(v[0]) - v[1];
}

class GgufQuantizedGolden : public ::testing::TestWithParam<TypeCase> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    model_ = shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-" + GetParam().type + ".gguf");
    golden_ = shared_path("golden/tiny-qwen2-kq-" + GetParam().type);
    manifest_ = read_json(golden_ + "/manifest.json");
  }
  std::string model_, golden_;
  nlohmann::json manifest_;
};

// Every prompt position, and every step of the reference greedy path teacher-forced (llama.cpp fed the
// reference id at each step; so does this prompt: ids + greedy32[0..30], whose last 32 rows are those steps).
// One check of the decode path's own ids follows in GreedyIdsMatchWhereMarginsAllow.
TEST_P(GgufQuantizedGolden, LogitsWithinMeasuredTolerance) {
  test::TempDir tmp;
  const double tol = GetParam().tolerance;
  double worst = 0;
  for (const auto& c : manifest_["cases"]) {
    const std::string name = c["name"];
    auto ids = read_json(golden_ + "/" + c["ids_file"].get<std::string>()).get<std::vector<int32_t>>();
    auto greedy =
        read_json(golden_ + "/" + c["greedy32_file"].get<std::string>()).get<std::vector<int32_t>>();
    const size_t n = ids.size();
    std::vector<int32_t> forced = ids;
    forced.insert(forced.end(), greedy.begin(), greedy.end() - 1);
    const std::string out = tmp.file(name + ".npy");
    // f32 K/V like llama.cpp's reference runs: the cache is not what is measured here.
    auto r = test::run_r1serve({"run", "--model", model_, "--dtype", "auto", "--kv-cache-dtype", "f32",
                                "--prompt-ids", join_ids(forced), "--dump-logits", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    NpyArray ours = read_npy_f32(out);
    NpyArray prompt = read_npy_f32(golden_ + "/" + c["quantized_logits_file"].get<std::string>());
    NpyArray steps = read_npy_f32(golden_ + "/" + c["quantized_greedy32_logits_file"].get<std::string>());
    const size_t vocab = prompt.shape[1];
    ASSERT_EQ(ours.shape, (std::vector<size_t>{forced.size(), vocab}));
    ASSERT_EQ(prompt.shape[0], n);
    ASSERT_EQ(steps.shape[0], greedy.size());
    double d_prompt = 0, d_steps = 0;
    for (size_t i = 0; i < n * vocab; ++i)
      d_prompt = std::max(d_prompt, std::fabs(double(ours.data[i]) - prompt.data[i]));
    for (size_t s = 0; s < greedy.size(); ++s)
      for (size_t v = 0; v < vocab; ++v)
        d_steps = std::max(d_steps,
                           std::fabs(double(ours.data[(n - 1 + s) * vocab + v]) - steps.data[s * vocab + v]));
    std::printf("%s %s: max |ours - llama.cpp quantized| prompt %.4f, teacher-forced steps %.4f\n",
                GetParam().type.c_str(), name.c_str(), d_prompt, d_steps);
    EXPECT_LE(d_prompt, tol) << GetParam().type << " " << name << " prompt";
    EXPECT_LE(d_steps, tol) << GetParam().type << " " << name << " greedy steps";
    worst = std::max({worst, d_prompt, d_steps});
  }
  std::printf("%s: worst %.4f (tolerance %.2f)\n", GetParam().type.c_str(), worst, tol);
}

// Our greedy path (the decode loop, one token at a time) gives the reference ids for as long as llama.cpp's
// quantized path chose them too with a top1-top2 margin over 2x the tolerance: within the tolerance neither
// engine can then pick another id. Past the first step without such a margin the paths may part, as
// llama.cpp's own quantized path parts from the reference (ASSETS.md: 14 of 24 cases within 32 steps).
TEST_P(GgufQuantizedGolden, GreedyIdsMatchWhereMarginsAllow) {
  const double tol = GetParam().tolerance;
  size_t checked = 0;
  for (const auto& c : manifest_["cases"]) {
    const std::string name = c["name"];
    auto ids = read_json(golden_ + "/" + c["ids_file"].get<std::string>()).get<std::vector<int32_t>>();
    auto want = read_json(golden_ + "/" + c["greedy32_file"].get<std::string>()).get<std::vector<int32_t>>();
    NpyArray steps = read_npy_f32(golden_ + "/" + c["quantized_greedy32_logits_file"].get<std::string>());
    const size_t vocab = steps.shape[1];
    size_t safe = 0;  // steps whose ids both engines must share
    while (safe < want.size() && argmax(&steps.data[safe * vocab], vocab) == size_t(want[safe]) &&
           margin(&steps.data[safe * vocab], vocab) > 2 * tol)
      ++safe;
    auto r = test::run_r1serve({"run", "--model", model_, "--dtype", "auto", "--kv-cache-dtype", "f32",
                                "--prompt-ids", join_ids(ids), "--temperature", "0", "--max-tokens",
                                std::to_string(want.size()), "--ignore-eos", "--output", "ids"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<int32_t> got;
    std::istringstream ss(r.out);
    for (int32_t v; ss >> v;) got.push_back(v);
    ASSERT_EQ(got.size(), want.size()) << name;
    std::printf("%s %s: greedy ids checked for %zu of %zu steps\n", GetParam().type.c_str(), name.c_str(),
                safe, want.size());
    for (size_t s = 0; s < safe; ++s)
      EXPECT_EQ(got[s], want[s]) << GetParam().type << " " << name << " step " << s;
    checked += safe;
  }
  // Few steps qualify: this random-weight model's top1-top2 margins are mostly below 2x the tolerance
  // (measured, steps over the 3 cases: Q8_0 4, Q4_1 7, Q5_1 4, Q4_K_M 3, Q6_K 2, none for Q4_0, Q5_0,
  // Q5_K_M), which is why LogitsWithinMeasuredTolerance, not this test, carries the comparison; this one
  // holds the decode loop to the reference wherever the margins make that a fair demand.
  std::printf("%s: %zu greedy steps checked\n", GetParam().type.c_str(), checked);
}

INSTANTIATE_TEST_SUITE_P(Shared, GgufQuantizedGolden, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<TypeCase>& i) { return i.param.type; });

}  // namespace
}  // namespace r1
