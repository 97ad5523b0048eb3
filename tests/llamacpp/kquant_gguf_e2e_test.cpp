// make_dummy_gguf's k-quant mixes through r1serve itself: a tiny-config Q4_K_M / Q5_K_M / Q6_K file of
// r1serve's dummy weights is read back by r1serve's own GGUF reader with the tensor types llama-quantize
// would give (the benchmark's premise: both engines run this very file), and served by the real binary — `run
// --dtype f32` (exact decoding of the blocks) and `--dtype auto` give logits close to those of the same dummy
// weights unquantized (`--load-format dummy --dtype f32` on the config alone), and greedy decoding runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/npy.h"
#include "dummy_gguf.h"
#include "model/gguf_file.h"
#include "support/test_support.h"

namespace r1 {
namespace {

struct MixCase {
  std::string name;  // make_dummy_gguf --type
  gguf::FileType type;
  uint32_t file_type;    // llama.cpp's general.file_type
  GgmlType base;         // most matrices
  double tol_quantized;  // max |logit − unquantized logit|, --dtype f32 and auto (see kMixes)
  double tol_packing;    // max |auto logit − f32 logit|
};
std::ostream& operator<<(std::ostream& o, const MixCase& c) {
  return o << c.name;
}

// Measured over 6 prompt positions × 300 ids (logits of this random 8-layer model reach ±3.3), max |diff|
// from the unquantized weights' logits, --dtype f32 / auto: Q4_K_M 0.600 / 0.620, Q5_K_M 0.421 / 0.405, Q6_K
// 0.178 / 0.205; auto from f32 0.071, 0.061, 0.063 (the k-quant kernels: the stored blocks against int8
// activations; 0.075-0.095 while the blocks were re-packed as Q8_0). The model amplifies weight noise about
// linearly (the same weights as a Q8_0 file, ~0.4% RMS weight error, differ by 0.057; as F16 by 0.002), so
// these follow the formats' RMS errors (kquant_quantize_test: ~6%, ~3%, ~1.3%; Q4_K_M/Q5_K_M hold some Q6_K
// matrices). Tolerances ~1.5x the larger measurement, ~2x for auto from f32 (int8 activations): all well below
// what scrambled blocks (a wrong nibble order, a scale from the wrong sub-block) move logits of this scale by.
const MixCase kMixes[] = {
    {"q4_k_m", gguf::FileType::Q4_K_M, 15, GgmlType::Q4_K, 0.9, 0.2},
    {"q5_k_m", gguf::FileType::Q5_K_M, 17, GgmlType::Q5_K, 0.65, 0.2},
    {"q6_k", gguf::FileType::Q6_K, 18, GgmlType::Q6_K, 0.35, 0.2},
};

class KQuantDummyGguf : public ::testing::TestWithParam<MixCase> {};

double max_abs_diff(const NpyArray& a, const NpyArray& b) {
  EXPECT_EQ(a.shape, b.shape);
  double d = 0;
  for (size_t i = 0; i < std::min(a.data.size(), b.data.size()); ++i)
    d = std::max(d, std::fabs(double(a.data[i]) - b.data[i]));
  return d;
}

TEST_P(KQuantDummyGguf, ReadBackWithLlamaQuantizeTypesAndServed) {
  const MixCase& m = GetParam();
  test::TempDir tmp;
  // 256-wide matrices (k-quant super-blocks), 8 layers: use_more_bits picks layers 0, 3, 6 and 7.
  test::TinyModelSpec spec;
  spec.architecture = "Qwen2ForCausalLM";
  spec.hidden = 256;
  spec.ffn = 512;
  spec.layers = 8;
  spec.vocab = 300;
  const std::string cfg_dir = tmp.file("config");
  std::filesystem::create_directories(cfg_dir);
  std::ofstream(cfg_dir + "/config.json") << test::tiny_config(spec).dump(2);
  const ModelConfig c = ModelConfig::from_json(test::tiny_config(spec), "config.json");
  const std::string model = tmp.file(m.name + ".gguf");
  gguf::WriteOptions opt;
  opt.type = m.type;
  opt.threads = 2;
  gguf::write_dummy_gguf(c, model, opt);

  {
    const GgufFile f(model);
    EXPECT_EQ(f.metadata().at("general.file_type").get<uint32_t>(), m.file_type);
    size_t matrices = 0;
    for (const GgufTensor& t : f.tensors()) {
      if (t.ne.size() != 2) {
        EXPECT_EQ(t.type, GgmlType::F32) << t.name;
        continue;
      }
      ++matrices;
      GgmlType want = m.base;
      const bool v_or_down =
          t.name.find("attn_v") != std::string::npos || t.name.find("ffn_down") != std::string::npos;
      const int layer = t.name.rfind("blk.", 0) == 0 ? std::stoi(t.name.substr(4)) : -1;
      if (t.name == "output.weight" || (v_or_down && m.type != gguf::FileType::Q6_K &&
                                        (layer == 0 || layer == 3 || layer == 6 || layer == 7)))
        want = GgmlType::Q6_K;
      EXPECT_EQ(ggml_type_name(t.type), ggml_type_name(want)) << t.name;
    }
    EXPECT_EQ(matrices, 2 + 7 * c.n_layers);  // token_embd, output, and 7 per layer
  }

  const std::string ids = "1,17,42,255,3,299";
  auto logits = [&](std::vector<std::string> args, const std::string& name) {
    const std::string out = tmp.file(name + ".npy");
    args.insert(args.end(),
                {"--prompt-ids", ids, "--kv-cache-dtype", "f32", "--threads", "2", "--dump-logits", out});
    auto r = test::run_r1serve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_npy_f32(out);
  };
  const NpyArray ref = logits({"run", "--model", cfg_dir, "--load-format", "dummy", "--dtype", "f32"}, "ref");
  const NpyArray exact = logits({"run", "--model", model, "--dtype", "f32"}, "f32");
  const NpyArray packed = logits({"run", "--model", model, "--dtype", "auto"}, "auto");
  ASSERT_EQ(ref.shape, (std::vector<size_t>{6, c.vocab_size}));
  double amax = 0;
  for (float v : ref.data) amax = std::max(amax, double(std::fabs(v)));
  const double d_f32 = max_abs_diff(exact, ref), d_auto = max_abs_diff(packed, ref);
  const double d_packing = max_abs_diff(packed, exact);
  std::printf(
      "%s: max |logit| %.3f; max |diff| from the unquantized weights: --dtype f32 %.4f, auto %.4f; auto from "
      "f32 %.4f\n",
      m.name.c_str(), amax, d_f32, d_auto, d_packing);
  EXPECT_LE(d_f32, m.tol_quantized);
  EXPECT_LE(d_auto, m.tol_quantized);
  EXPECT_LE(d_packing, m.tol_packing);
  EXPECT_GT(d_f32, 0.0) << "the file holds quantized weights, not the unquantized ones";

  // Served: greedy decoding from the file, every id in the vocabulary.
  auto r = test::run_r1serve({"run", "--model", model, "--prompt-ids", ids, "--temperature", "0",
                              "--max-tokens", "8", "--ignore-eos", "--output", "ids", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  size_t n = 0;
  for (int v; in >> v; ++n) EXPECT_TRUE(v >= 0 && size_t(v) < c.vocab_size) << v;
  EXPECT_EQ(n, 8u);
}

INSTANTIATE_TEST_SUITE_P(Mixes, KQuantDummyGguf, ::testing::ValuesIn(kMixes),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace r1
