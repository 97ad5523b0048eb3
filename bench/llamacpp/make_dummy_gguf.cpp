// make_dummy_gguf: a GGUF file of random weights in the exact shape of a Hugging Face config.json, for the
// same-machine llama.cpp baseline (bench/llamacpp/README.md).
//
//   make_dummy_gguf --model ../shared/hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B
//                   --out /tmp/qwen-1.5b-q8_0.gguf --type q8_0
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "dummy_gguf.h"
#include "model/dummy_weights.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Write a GGUF file of random weights (r1serve's --load-format dummy values) in a model's shape"};
  std::string model, out, type = "q8_0";
  r1::gguf::WriteOptions opt;
  app.add_option("--model", model, "model folder with config.json, or a config.json")->required();
  app.add_option("--out", out, "the .gguf file to write")->required();
  app.add_option(
         "--type", type,
         "q8_0 | q4_0 (embedding and output in Q8_0) | f16 | q4_k_m | q5_k_m | q6_k (the k-quant mixes: "
         "each matrix typed as llama-quantize types it)")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed (r1serve perf --load-format dummy uses 1)")
      ->capture_default_str();
  app.add_option("--threads", opt.threads, "threads (0: all cores)")->capture_default_str();
  app.add_option("--name", opt.name, "general.name");
  CLI11_PARSE(app, argc, argv);
  try {
    opt.type = r1::gguf::parse_file_type(type);
    const r1::ModelConfig c = r1::dummy_config(model);
    const auto t0 = std::chrono::steady_clock::now();
    const r1::gguf::WriteSummary s = r1::gguf::write_dummy_gguf(c, out, opt);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %s %s, %zu tensors, %zu metadata keys, %.1f MB in %.1f s\n", out.c_str(),
                r1::gguf::gguf_architecture(c).c_str(), r1::gguf::file_type_name(opt.type).c_str(),
                s.n_tensors, s.n_kv, double(s.file_bytes) / 1e6, secs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dummy_gguf: %s\n", e.what());
    return 1;
  }
  return 0;
}
