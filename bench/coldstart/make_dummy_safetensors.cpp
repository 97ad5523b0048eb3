// make_dummy_safetensors: a real Hugging Face package of random weights (r1serve's --load-format dummy
// values) in the exact shape of a config.json — config.json, generation_config.json and one model.safetensors
// in the config's torch_dtype (BF16 for the distills) — so that loading from disk can be timed
// (bench/coldstart).
//
//   make_dummy_safetensors --model ../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B --out
//   DIR
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "model/dummy_weights.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"Write a Hugging Face model folder of random weights in a model's shape"};
  std::string model, out;
  uint64_t seed = 1;
  app.add_option("--model", model, "model folder with config.json")->required();
  app.add_option("--out", out, "the folder to write")->required();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const r1::ModelConfig c = r1::dummy_config(model);
    const bool bf16 = c.torch_dtype == "bfloat16";
    fs::create_directories(out);
    for (const char* f : {"config.json", "generation_config.json"})
      if (fs::exists(fs::path(model) / f))
        fs::copy_file(fs::path(model) / f, fs::path(out) / f, fs::copy_options::overwrite_existing);
    // Every tensor, as Hugging Face stores them: all in torch_dtype, vectors 1-D.
    struct T {
      std::string name;
      std::vector<size_t> shape;
    };
    std::vector<T> tensors;
    for (const auto& s : r1::weight_specs(c, r1::WeightPrecision::BF16))
      tensors.push_back({s.name, s.dtype == r1::DType::F32 ? std::vector<size_t>{s.cols}
                                                           : std::vector<size_t>{s.rows, s.cols}});
    const size_t esz = bf16 ? 2 : 4;
    nlohmann::json header = nlohmann::json::object();
    size_t offset = 0;
    for (const auto& t : tensors) {
      size_t n = 1;
      for (size_t d : t.shape) n *= d;
      header[t.name] = {
          {"dtype", bf16 ? "BF16" : "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + n * esz}}};
      offset += n * esz;
    }
    std::string h = header.dump();
    h.resize((h.size() + 7) / 8 * 8, ' ');
    std::ofstream f(fs::path(out) / "model.safetensors", std::ios::binary);
    const uint64_t hlen = h.size();
    f.write(reinterpret_cast<const char*>(&hlen), 8);
    f.write(h.data(), std::streamsize(h.size()));
    for (const auto& t : tensors) {
      r1::TensorSource src = r1::dummy_tensor_source(c, t.name, t.shape, seed);
      const size_t cols = t.shape.back(), rows = t.shape.size() == 2 ? t.shape[0] : 1;
      std::vector<float> row(cols);      // [cols]
      std::vector<uint16_t> half(cols);  // [cols]
      for (size_t r = 0; r < rows; ++r) {
        src.row(r, row.data());
        if (bf16) {
          for (size_t i = 0; i < cols; ++i) half[i] = r1::f32_to_bf16(row[i]);
          f.write(reinterpret_cast<const char*>(half.data()), std::streamsize(cols * 2));
        } else {
          f.write(reinterpret_cast<const char*>(row.data()), std::streamsize(cols * 4));
        }
      }
    }
    f.close();
    if (!f) throw std::runtime_error("write failed: " + out);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %zu tensors, %.1f MB of %s in %.1f s\n", out.c_str(), tensors.size(),
                double(offset) / 1e6, bf16 ? "BF16" : "F32", secs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dummy_safetensors: %s\n", e.what());
    return 1;
  }
  return 0;
}
