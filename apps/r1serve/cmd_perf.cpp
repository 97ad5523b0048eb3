// r1serve perf: prefill and decode speed of the CPU decoder on a model (or random weights of its shape),
// beside a memory-read-bandwidth probe run in the same process, so decode can be stated as a fraction of the
// limit.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_util.h"
#include "commands.h"
#include "core/aligned_buffer.h"
#include "core/error.h"
#include "engine/generator.h"
#include "kernels/isa.h"
#include "model/kv_cache.h"

namespace r1::app {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct PerfOptions {
  std::string model, load_format = "auto", dtype = "auto", batch = "1,8", kv_dtype = "auto", depth = "0";
  int threads = 0;
  size_t prompt_tokens = 512, gen_tokens = 128, repeat = 5;
  bool json = false;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

// Sustained read bandwidth of all pool threads over a buffer far larger than the last-level cache (GB/s,
// best of several passes, as decode streams weights the same way).
double read_bandwidth_gbs(ThreadPool& pool) {
  const size_t bytes = size_t(512) << 20;  // 16× the 32 MB L3
  AlignedBuffer buf(bytes);
  std::memset(buf.data(), 1, bytes);  // fault the pages in before timing
  const uint64_t* p = buf.as<uint64_t>();
  const size_t n = bytes / 8;
  std::vector<uint64_t> sink(size_t(pool.size()) * 8);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    auto t0 = Clock::now();
    pool.parallel_for(n / 8, [&](size_t b, size_t e) {
      uint64_t s[8] = {};
      for (size_t i = b; i < e; ++i)
        for (int j = 0; j < 8; ++j) s[j] += p[i * 8 + j];
      for (int j = 0; j < 8; ++j) sink[(b * size_t(pool.size()) / (n / 8)) * 8 + size_t(j)] += s[j];
    });
    best = std::max(best, double(bytes) / seconds_since(t0) / 1e9);
  }
  return best;
}

long rss_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

// The larger of the loading peak and the current resident size, over the bytes of weights + KV.
double resident_ratio(long load_peak_kb, size_t weights_and_kv_bytes) {
  const long now_kb = rss_kb("VmRSS:");
  return double(std::max(load_peak_kb, now_kb)) * 1024.0 / double(weights_and_kv_bytes);
}

// KV blocks of kBlock positions; each sequence owns a contiguous run of blocks.
constexpr size_t kBlock = 16;

struct Sequences {
  std::vector<std::vector<int32_t>> tables;
  Sequences(size_t n_seqs, size_t max_len) {
    size_t per = (max_len + kBlock - 1) / kBlock;
    for (size_t s = 0; s < n_seqs; ++s) {
      tables.emplace_back(per);
      for (size_t i = 0; i < per; ++i) tables[s][i] = int32_t(s * per + i);
    }
  }
};

double prefill_once(Decoder& dec, const ModelConfig& c, KvCache& kv, size_t n, std::mt19937& rng) {
  Sequences seqs(1, n);
  ForwardBatch b;
  std::uniform_int_distribution<int32_t> tok(0, int32_t(c.vocab_size) - 1);
  for (size_t i = 0; i < n; ++i) b.tokens.push_back(tok(rng));
  b.seqs.push_back({0, n, 0, seqs.tables[0].data()});
  b.logit_rows = {int32_t(n - 1)};
  std::vector<float> logits(c.vocab_size);
  auto t0 = Clock::now();
  dec.forward(b, kv, logits.data());
  return double(n) / seconds_since(t0);
}

// Writes `depth` positions of K/V context into every sequence's blocks, in the cache's element type: random
// values of a roped K's scale, not a prefill of real tokens, since attention's cost does not depend on the
// values and a real 8K-token prefill takes minutes on two cores (llama-bench's -d evaluates a prompt; the
// timed decode reads the same bytes either way).
void fill_context(const ModelConfig& c, KvCache& kv, const Sequences& seqs, size_t depth) {
  const size_t stride = kv.slot_stride(), esz = dtype_size(kv.dtype());
  uint32_t x = 2463534242u;  // xorshift32: a cheap stream, the values only need to be finite and varied
  std::vector<uint8_t> row(stride * esz);  // [n_kv_heads * head_dim] in the cache's dtype
  for (size_t layer = 0; layer < c.n_layers; ++layer)
    for (void* base : {kv.k_data(layer), kv.v_data(layer)})
      for (const std::vector<int32_t>& table : seqs.tables)
        for (size_t j = 0; j < depth; ++j) {
          for (size_t i = 0; i < stride; ++i) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            const float f = float(int32_t(x)) * (4.0f / 2147483648.0f);  // [-4, 4)
            if (kv.dtype() == DType::F32)
              std::memcpy(row.data() + i * 4, &f, 4);
            else {
              const uint16_t h = kv.dtype() == DType::F16 ? f32_to_f16(f) : f32_to_bf16(f);
              std::memcpy(row.data() + i * 2, &h, 2);
            }
          }
          const size_t slot = size_t(table[j / kBlock]) * kBlock + j % kBlock;
          std::memcpy(static_cast<uint8_t*>(base) + slot * stride * esz, row.data(), row.size());
        }
}

// `batch` sequences decode gen tokens each, one token per sequence per step, after `depth` positions of
// context (0: from an empty context, as llama-bench's tg runs; N: as llama-bench's -d N). Returns aggregate
// tokens/s.
double decode_once(Decoder& dec, const ModelConfig& c, KvCache& kv, const Sequences& seqs, size_t batch,
                   size_t depth, size_t gen, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> tok(0, int32_t(c.vocab_size) - 1);
  std::vector<float> logits(batch * c.vocab_size);
  ForwardBatch b;
  auto t0 = Clock::now();
  for (size_t step = 0; step < gen; ++step) {
    b.tokens.clear();
    b.seqs.clear();
    b.logit_rows.clear();
    for (size_t s = 0; s < batch; ++s) {
      b.tokens.push_back(tok(rng));
      b.seqs.push_back({s, 1, depth + step, seqs.tables[s].data()});
      b.logit_rows.push_back(int32_t(s));
    }
    dec.forward(b, kv, logits.data());
  }
  return double(batch * gen) / seconds_since(t0);
}

int perf(const PerfOptions& o) {
  const auto t_start = Clock::now();
  const WeightPrecision precision = parse_weight_precision(o.dtype);
  std::unique_ptr<LoadedModel> loaded = load_model(o.model, precision, parse_load_format(o.load_format));
  const ModelConfig& c = loaded->package.config();
  const Weights& w = loaded->weights;
  const double load_s = seconds_since(t_start);
  std::vector<int32_t> batches = parse_id_list(o.batch, "--batch");
  if (batches.empty() || o.repeat == 0 || o.gen_tokens == 0 || o.prompt_tokens == 0)
    fail("--batch, --repeat, --gen-tokens and --prompt-tokens must be positive");
  for (int32_t b : batches)
    if (b <= 0) fail("--batch: sizes must be positive, got {}", b);
  const DType kv_dtype = resolve_kv_cache_dtype(o.kv_dtype, c, precision);
  std::vector<int32_t> depths = parse_id_list(o.depth, "--depth");
  if (depths.empty()) fail("--depth: give one or more depths, e.g. 0 or 128,1024");
  for (int32_t d : depths)
    if (d < 0) fail("--depth: depths must be 0 or more, got {}", d);
  const size_t max_depth = size_t(*std::max_element(depths.begin(), depths.end()));

  ThreadPool pool(o.threads);
  Decoder dec(c, w, pool);
  const size_t max_batch = size_t(*std::max_element(batches.begin(), batches.end()));
  // Each decoding sequence owns the blocks of depth + gen positions (its own context: a batch at depth
  // reads batch times the KV bytes, as distinct requests do). The context is written once for the deepest
  // run; a shallower one decodes from its depth over the same blocks.
  const size_t blocks = std::max((o.prompt_tokens + kBlock - 1) / kBlock,
                                 max_batch * ((max_depth + o.gen_tokens + kBlock - 1) / kBlock));
  KvCache kv(c, blocks, kBlock, kv_dtype);
  const Sequences seqs(max_batch, max_depth + o.gen_tokens);
  fill_context(c, kv, seqs, max_depth);
  std::mt19937 rng(1);
  // Resident memory is judged against weights + KV: the peak so far (loading) is read before the probe's
  // 512 MB buffer, which is freed again, would raise it; the current size after the runs adds the decoder's
  // activations.
  const long rss_load_peak_kb = rss_kb("VmHWM:");
  double bw = read_bandwidth_gbs(pool);
  spdlog::info(
      "{} ({}), {} layers, dtype {}, {} threads, {} kernels, weights {:.1f} MB, KV {:.1f} MB, load {:.2f} s",
      o.model, c.architecture, c.n_layers, weight_precision_name(precision), pool.size(),
      kernels::isa_name(kernels::active_kernels().isa), double(w.bytes()) / 1e6, double(kv.bytes()) / 1e6,
      load_s);

  // Time to the first token of one prompt_tokens-long prompt, counted from the command's start.
  std::vector<double> prefill;
  double first_token_s = 0;
  prefill_once(dec, c, kv, std::min<size_t>(o.prompt_tokens, 16), rng);  // warm-up
  for (size_t r = 0; r < o.repeat; ++r) {
    prefill.push_back(prefill_once(dec, c, kv, o.prompt_tokens, rng));
    if (r == 0) first_token_s = seconds_since(t_start);  // includes the warm-up and the bandwidth probe
  }
  const Stats pf = stats(prefill);
  const size_t bytes_per_step = w.streamed_bytes_per_token();
  for (int32_t bsz : batches)
    for (int32_t depth_i : depths) {
      const size_t depth = size_t(depth_i);
      std::vector<double> dec_tps;
      decode_once(dec, c, kv, seqs, size_t(bsz), depth, 4, rng);  // warm-up
      for (size_t r = 0; r < o.repeat; ++r)
        dec_tps.push_back(decode_once(dec, c, kv, seqs, size_t(bsz), depth, o.gen_tokens, rng));
      const Stats d = stats(dec_tps);
      // The host's bandwidth drifts (other tenants): probe again right after this configuration and judge
      // decode against the higher of the two readings, so a dip during one probe cannot flatter the fraction.
      bw = std::max(bw, read_bandwidth_gbs(pool));
      // Weights are read once per step whatever the batch, and each sequence's K/V context once (its mean
      // length over the timed steps), so per-step bytes / bandwidth bounds steps/s.
      const double kv_bytes_per_step = double(bsz) * (double(depth) + double(o.gen_tokens + 1) / 2) *
                                       double(KvCache::block_bytes(c, 1, kv_dtype));
      const double steps_per_s = d.median / double(bsz);
      const double frac = steps_per_s * (double(bytes_per_step) + kv_bytes_per_step) / (bw * 1e9);
      nlohmann::json j = {
          {"model", o.model},
          {"architecture", c.architecture},
          {"load_format", o.load_format},
          {"dtype", weight_precision_name(precision)},
          {"kv_cache_dtype", std::string(dtype_name(kv_dtype))},
          {"isa", std::string(kernels::isa_name(kernels::active_kernels().isa))},
          {"threads", pool.size()},
          {"batch", bsz},
          {"prompt_tokens", o.prompt_tokens},
          {"gen_tokens", o.gen_tokens},
          {"depth", depth},
          {"repeat", o.repeat},
          {"prefill_tok_s", {{"median", pf.median}, {"min", pf.min}, {"max", pf.max}}},
          {"decode_tok_s", {{"median", d.median}, {"min", d.min}, {"max", d.max}}},
          {"weight_bytes_per_step", bytes_per_step},
          {"kv_bytes_per_step", kv_bytes_per_step},
          {"read_bandwidth_gbs", bw},
          {"decode_fraction_of_bandwidth_limit", frac},
          {"load_s", load_s},
          {"first_prefill_done_s", first_token_s},
          {"weights_bytes", w.bytes()},
          {"kv_bytes", kv.bytes()},
          {"rss_peak_kb", rss_kb("VmHWM:")},
          {"rss_load_peak_kb", rss_load_peak_kb},
          {"rss_kb", rss_kb("VmRSS:")},
          {"rss_over_weights_and_kv", resident_ratio(rss_load_peak_kb, w.bytes() + kv.bytes())}};
      if (o.json) {
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf(
            "dtype %-4s kv %-4s batch %2d | prefill %4zu tok: %7.1f tok/s (%.1f-%.1f) | decode %zu tok at "
            "depth %zu: %7.2f tok/s (%.2f-%.2f) | %.1f MB weights + %.1f MB KV/step | probe %.1f GB/s | "
            "decode at %.0f%% of the bandwidth limit\n",
            weight_precision_name(precision).c_str(), std::string(dtype_name(kv_dtype)).c_str(), bsz,
            o.prompt_tokens, pf.median, pf.min, pf.max, o.gen_tokens, depth, d.median, d.min, d.max,
            double(bytes_per_step) / 1e6, kv_bytes_per_step / 1e6, bw, frac * 100);
      }
      std::fflush(stdout);
    }
  if (!o.json) {
    std::printf("load %.2f s, first %zu-token prefill done at %.2f s after start\n", load_s, o.prompt_tokens,
                first_token_s);
    std::printf(
        "resident: %.1f MB peak while loading, %.1f MB after the runs, for %.1f MB of weights + KV (%.2fx; "
        "peak %.1f MB with the probe's buffer)\n",
        double(rss_load_peak_kb) / 1024, double(rss_kb("VmRSS:")) / 1024,
        double(w.bytes() + kv.bytes()) / 1048576, resident_ratio(rss_load_peak_kb, w.bytes() + kv.bytes()),
        double(rss_kb("VmHWM:")) / 1024);
  }
  return 0;
}

void register_perf(CLI::App& app, Action& action) {
  auto o = std::make_shared<PerfOptions>();
  CLI::App* cmd =
      app.add_subcommand("perf", "Measure prefill and decode speed beside a memory-bandwidth probe");
  cmd->add_option("--model", o->model,
                  "Hugging Face model folder, GGUF file, store name NAME[:TAG] or Hub id ORG/NAME[@REV] (or, "
                  "with --load-format dummy, a config.json)")
      ->required();
  add_load_format_option(cmd, o->load_format);
  cmd->add_option("--dtype", o->dtype, "Weight precision: auto, f32, bf16, q8, q4");
  add_kv_cache_dtype_option(cmd, o->kv_dtype);
  cmd->add_option("--threads", o->threads, "Threads (0 = all cores)");
  cmd->add_option("--prompt-tokens", o->prompt_tokens, "Prompt length for the prefill figure");
  cmd->add_option("--gen-tokens", o->gen_tokens, "Tokens each sequence decodes");
  cmd->add_option("--depth", o->depth,
                  "Positions of context already in each sequence's KV cache before the timed decode, e.g. "
                  "0,1024,4096 (as llama-bench's -d; filled with random K/V, not prefilled)");
  cmd->add_option("--batch", o->batch, "Decode batch sizes (sequences per step), e.g. 1,8");
  cmd->add_option("--repeat", o->repeat, "Repeats of every measurement (median and range reported)");
  cmd->add_flag("--json", o->json, "One JSON line per configuration");
  cmd->callback([&action, o] {
    action = [o] {
      o->model = resolve_model_arg(o->model).dir;
      return perf(*o);
    };
  });
}

const CommandRegistrar kRegisterPerf(register_perf);

}  // namespace
}  // namespace r1::app
