#include "engine/generator.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.h"
#include "model/dummy_weights.h"

namespace r1 {

namespace {
constexpr size_t kBlockSize = 16;
}

LoadFormat parse_load_format(const std::string& s) {
  if (s == "auto") return LoadFormat::automatic;
  if (s == "dummy") return LoadFormat::dummy;
  fail("unsupported --load-format \"{}\" (supported: auto, dummy)", s);
}

const char* load_format_name(LoadFormat f) {
  return f == LoadFormat::dummy ? "dummy" : "auto";
}

std::unique_ptr<LoadedModel> load_model(const std::string& dir, WeightPrecision precision,
                                        LoadFormat format) {
  if (format == LoadFormat::dummy) {
    ModelPackage pkg = ModelPackage::open_config_only(dir);
    Weights w = dummy_weights(pkg.config(), precision);
    spdlog::warn(
        "--load-format dummy: the weights of {} are RANDOM (made from config.json, not read from any file); "
        "whatever it generates is meaningless — for benchmarks and tests only",
        dir);
    return std::make_unique<LoadedModel>(LoadedModel{std::move(pkg), std::move(w), format});
  }
  ModelPackage pkg = ModelPackage::open(dir);
  Weights w = Weights::load(pkg, precision);
  return std::make_unique<LoadedModel>(LoadedModel{std::move(pkg), std::move(w), format});
}

Generator::Generator(const LoadedModel& m, ThreadPool& pool, size_t max_context, DType kv_dtype)
    : m_(m),
      decoder_(m.package.config(), m.weights, pool),
      max_context_(max_context),
      kv_(m.package.config(), (max_context + kBlockSize - 1) / kBlockSize, kBlockSize, kv_dtype) {
  // A lone sequence owns every block, in order.
  block_table_.resize(kv_.n_blocks());
  for (size_t i = 0; i < block_table_.size(); ++i) block_table_[i] = int32_t(i);
}

std::vector<float> Generator::prompt_logits(const std::vector<int32_t>& prompt) {
  if (prompt.empty()) fail("the prompt is empty");
  if (prompt.size() > max_context_)
    fail("prompt of {} tokens exceeds the context of {}", prompt.size(), max_context_);
  ForwardBatch b;
  b.tokens = prompt;
  b.seqs.push_back({0, prompt.size(), 0, block_table_.data()});
  for (size_t i = 0; i < prompt.size(); ++i) b.logit_rows.push_back(int32_t(i));
  std::vector<float> logits(prompt.size() * m_.package.config().vocab_size);
  decoder_.forward(b, kv_, logits.data());
  return logits;
}

std::vector<int32_t> Generator::generate(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                                         const std::function<bool(int32_t)>& on_token,
                                         std::vector<std::vector<float>>* step_logits) {
  if (prompt.empty()) fail("the prompt is empty");
  opt.sampling.validate();
  const size_t vocab = m_.package.config().vocab_size;
  if (prompt.size() >= max_context_)
    fail("prompt of {} tokens leaves no room in the context of {}", prompt.size(), max_context_);
  size_t budget = std::min(opt.max_tokens, max_context_ - prompt.size());
  Sampler sampler(opt.sampling);
  std::vector<int32_t> out;
  std::vector<float> logits(vocab);
  ForwardBatch b;
  b.tokens = prompt;
  b.seqs.push_back({0, prompt.size(), 0, block_table_.data()});
  b.logit_rows = {int32_t(prompt.size() - 1)};
  size_t pos = 0;
  while (out.size() < budget) {
    decoder_.forward(b, kv_, logits.data());
    pos += b.tokens.size();
    if (step_logits) step_logits->push_back(logits);
    int32_t id = sampler.sample(logits, prompt, out);
    out.push_back(id);
    bool more = on_token(id);
    if (!opt.ignore_eos && std::find(opt.eos_ids.begin(), opt.eos_ids.end(), id) != opt.eos_ids.end()) break;
    if (!more) break;
    b.tokens = {id};
    b.seqs[0] = {0, 1, pos, block_table_.data()};
    b.logit_rows = {0};
  }
  return out;
}

}  // namespace r1
