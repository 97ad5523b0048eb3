// Kernel microbenchmarks: packed Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 and k-quant matmul (decode GEMV n=1, batched n=8,
// prefill n=64) and BF16/F32 matmul at the R1-Distill-Qwen-1.5B FFN shape, per ISA table (BF16 also streamed
// over 2 threads); attention over a paged cache, in cache and at depth (28 layers streamed from memory); and
// the thread pool's fork/join. Counters: weight GB/s (bytes of the matrix per call / time) and GOP/s
// (2·n·rows·cols).
//   build/<dir>/bench/kernels_bench --benchmark_filter=Q8 --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/kquant_tiles.h"
#include "kernels/ops.h"
#include "kernels/quant.h"

namespace r1::kernels {
namespace {

constexpr size_t kRows = 8960, kCols = 1536;  // R1-Distill-Qwen-1.5B gate/up projection

// A packed [rows, cols] matrix of random weights: quantized from floats, or for the formats r1serve does not
// quantize to (Q4_1, Q5_0, Q5_1) moved from random GGUF blocks with small scales.
struct Packed {
  AlignedBuffer buf;
  Packed(DType fmt, size_t rows, size_t cols) : buf(packed_bytes(fmt, rows, cols)) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    const bool from_blocks = fmt == DType::Q4_1 || fmt == DType::Q5_0 || fmt == DType::Q5_1;
    std::vector<float> tile(kQRowTile * cols);
    std::vector<uint8_t> blocks(kQRowTile * cols / kQBlock * dtype_size(fmt));
    const uint8_t* rows16[kQRowTile];
    for (size_t r = 0; r < kQRowTile; ++r) rows16[r] = blocks.data() + r * cols / kQBlock * dtype_size(fmt);
    for (size_t g = 0; g * kQRowTile < rows; ++g) {
      if (!from_blocks) {
        for (float& x : tile) x = u(rng);
        pack_row_group(fmt, cols, g, tile.data(), kQRowTile, buf.data());
        continue;
      }
      for (uint8_t& b : blocks) b = uint8_t(rng());
      for (size_t b = 0; b < blocks.size(); b += dtype_size(fmt)) {
        const uint16_t scale = f32_to_f16(0.01f);
        std::memcpy(&blocks[b], &scale, 2);  // d; a min, where there is one, stays random
      }
      pack_gguf_row_group(fmt, cols, g, rows16, kQRowTile, buf.data());
    }
  }
};

// One 8960×1536 matrix per format, made when first asked for (the k-quants' quantizers are slow).
const Packed& packed(DType fmt) {
  static std::map<DType, std::unique_ptr<Packed>> made;
  auto& p = made[fmt];
  if (!p) p = std::make_unique<Packed>(fmt, kRows, kCols);
  return *p;
}

void run_quant(benchmark::State& st, Isa isa, DType fmt) {
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) {
    st.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const size_t n = size_t(st.range(0));
  const Packed& w = packed(fmt);
  std::vector<float> x(n * kCols, 0.5f), y(n * kRows);
  QuantizedActs xq;
  quantize_acts(x.data(), n, kCols, xq);
  const QMatmulFn fn = qmatmul_for(*kt, fmt);
  for (auto _ : st) {
    fn(xq.view(), w.buf.data(), kRows, 0, kRows / kQRowTile, y.data(), kRows);
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["weight_GB/s"] = benchmark::Counter(
      double(w.buf.size()), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["GOP/s"] = benchmark::Counter(2.0 * double(n * kRows * kCols) / 1e9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

void run_dense(benchmark::State& st, Isa isa, DType dt) {
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) {
    st.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const size_t n = size_t(st.range(0));
  AlignedBuffer w(dtype_bytes(dt, kRows * kCols));
  std::memset(w.data(), 0x3c, w.size());
  std::vector<float> x(n * kCols, 0.5f), y(n * kRows);
  MatmulRowsFn fn = dt == DType::BF16 ? kt->matmul_rows_bf16 : kt->matmul_rows_f32;
  for (auto _ : st) {
    fn(x.data(), n, kCols, w.data(), 0, kRows, y.data(), kRows);
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["weight_GB/s"] =
      benchmark::Counter(double(w.size()), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GOP/s"] = benchmark::Counter(2.0 * double(n * kRows * kCols) / 1e9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Q8_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q8_0);
}
void BM_Q4_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q4_0);
}
void BM_Q8_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q8_0);
}
void BM_Q4_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q4_0);
}
void BM_Q41_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q4_1);
}
void BM_Q50_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q5_0);
}
void BM_Q51_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q5_1);
}
void BM_Q41_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q4_1);
}
void BM_Q50_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q5_0);
}
void BM_Q51_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q5_1);
}
void BM_Q4K_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q4_K);
}
void BM_Q6K_Avx2(benchmark::State& st) {
  run_quant(st, Isa::Avx2, DType::Q6_K);
}
void BM_Q4K_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q4_K);
}
void BM_Q5K_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q5_K);
}
void BM_Q6K_Avx512(benchmark::State& st) {
  run_quant(st, Isa::Avx512, DType::Q6_K);
}
void BM_BF16_Avx2(benchmark::State& st) {
  run_dense(st, Isa::Avx2, DType::BF16);
}
void BM_BF16_Avx512(benchmark::State& st) {
  run_dense(st, Isa::Avx512, DType::BF16);
}
BENCHMARK(BM_Q8_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q4_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q8_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q4_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q41_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q50_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q51_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q41_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q50_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q51_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q4K_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q6K_Avx2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q4K_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q5K_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Q6K_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BF16_Avx2)->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BF16_Avx512)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);

// The layer matrices of a decode step as the model runs them: ops::matmul on a 2-thread pool over 8 distinct
// 8960×1536 matrices (55 MB at Q4_0, 117 MB at Q8_0, 220 MB at BF16: more than the last-level cache, so the
// weights stream from memory as in a real step). Arg: tokens per call (1 = single-stream decode, 8 = batched,
// 64 = a prefill pass).
void run_streamed(benchmark::State& st, DType fmt) {
  constexpr size_t kMats = 8;
  static std::map<DType, std::vector<std::unique_ptr<AlignedBuffer>>> mats;
  auto& ms = mats[fmt];
  while (ms.size() < kMats) {
    if (is_quantized(fmt)) {
      ms.push_back(std::make_unique<AlignedBuffer>(std::move(Packed(fmt, kRows, kCols).buf)));
    } else {
      ms.push_back(std::make_unique<AlignedBuffer>(dtype_bytes(fmt, kRows * kCols)));
      std::memset(ms.back()->data(), 0x3c, ms.back()->size());
    }
  }
  ThreadPool pool(2);
  const size_t n = size_t(st.range(0));
  std::vector<float> x(n * kCols, 0.5f), y(n * kRows);
  QuantizedActs xq;
  if (is_quantized(fmt)) quantize_acts(x.data(), n, kCols, xq);
  size_t i = 0;
  for (auto _ : st) {
    WeightMatrix w{fmt, kRows, kCols, ms[i++ % kMats]->data()};
    if (is_quantized(fmt))
      matmul(pool, xq, w, nullptr, y.data());
    else
      matmul(pool, x.data(), n, w, nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["weight_GB/s"] = benchmark::Counter(
      double(ms[0]->size()), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["GOP/s"] = benchmark::Counter(2.0 * double(n * kRows * kCols) / 1e9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}
void BM_Q4_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q4_0);
}
void BM_Q8_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q8_0);
}
void BM_Q50_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q5_0);
}
void BM_Q51_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q5_1);
}
void BM_Q4K_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q4_K);
}
void BM_Q6K_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::Q6_K);
}
void BM_BF16_Streamed_2Threads(benchmark::State& st) {
  run_streamed(st, DType::BF16);
}
BENCHMARK(BM_Q4_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Q8_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Q50_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Q51_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Q4K_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Q6K_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_BF16_Streamed_2Threads)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Attention of a group of query heads (arg 1: 1, or 6 as in the 1.5B) sharing one KV head over a
// 1024-position context in cache, head_dim 128 (the 1.5B's). Arg 0: the cache's dtype, 32 = F32, 16 = F16,
// -16 = BF16.
DType kv_dtype_arg(int64_t a) {
  return a == 32 ? DType::F32 : a == 16 ? DType::F16 : DType::BF16;
}
void BM_Attention(benchmark::State& st) {
  const DType dt = kv_dtype_arg(st.range(0));
  const size_t hd = 128, ctx = 1024, bs = 16, n_q = size_t(st.range(1));
  std::vector<uint8_t> k(ctx * hd * dtype_size(dt), 0x11), v(k.size(), 0x11);
  std::vector<int32_t> table(ctx / bs);
  for (size_t i = 0; i < table.size(); ++i) table[i] = int32_t(i);
  std::vector<float> q(n_q * hd, 0.1f), out(n_q * hd), scratch(n_q * ctx);
  KvView view{k.data(), v.data(), dt, hd, table.data(), bs};
  const KernelTable& kt = active_kernels();
  for (auto _ : st) {
    kt.attention(q.data(), n_q, hd, view, 0, ctx, hd, 0.088f, scratch.data(), out.data(), hd);
    benchmark::DoNotOptimize(out.data());
  }
  st.counters["KV_GB/s"] =
      benchmark::Counter(double(2 * k.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Attention)
    ->Args({32, 1})
    ->Args({32, 6})
    ->Args({16, 1})
    ->Args({16, 6})
    ->Args({-16, 6})
    ->Unit(benchmark::kMicrosecond);

// One decode step's attention at depth (arg 1 positions) in the 1.5B's shape, as one of the decoder's threads
// runs it: 28 layers, each its own paged K/V of 2 KV heads × 128 (so the step streams 28 layers' bytes from
// memory, not from cache), one KV head's group of 6 query heads per layer. Arg 0: dtype as BM_Attention.
void BM_AttentionDepth(benchmark::State& st) {
  const DType dt = kv_dtype_arg(st.range(0));
  const size_t hd = 128, n_kv = 2, layers = 28, ctx = size_t(st.range(1)), bs = 16, n_q = 6;
  const size_t stride = n_kv * hd, layer_bytes = ctx * stride * dtype_size(dt);
  std::vector<uint8_t> k(layers * layer_bytes), v(k.size());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (auto* buf : {&k, &v})
    for (size_t i = 0; i < buf->size() / dtype_size(dt); ++i) {
      const float f = u(rng);
      if (dt == DType::F32) {
        std::memcpy(buf->data() + i * 4, &f, 4);
      } else {
        const uint16_t h = dt == DType::F16 ? f32_to_f16(f) : f32_to_bf16(f);
        std::memcpy(buf->data() + i * 2, &h, 2);
      }
    }
  std::vector<int32_t> table(ctx / bs);
  for (size_t i = 0; i < table.size(); ++i) table[i] = int32_t(i);
  std::vector<float> q(n_q * hd, 0.1f), out(n_q * hd), scratch(n_q * ctx);
  const KernelTable& kt = active_kernels();
  for (auto _ : st) {
    for (size_t l = 0; l < layers; ++l) {
      KvView view{k.data() + l * layer_bytes, v.data() + l * layer_bytes, dt, stride, table.data(), bs};
      kt.attention(q.data(), n_q, hd, view, 0, ctx, hd, 0.088f, scratch.data(), out.data(), hd);
    }
    benchmark::DoNotOptimize(out.data());
  }
  // The bytes of the one KV head read (half of each slot), K and V, all layers.
  st.counters["KV_GB/s"] = benchmark::Counter(double(2 * layers * ctx * hd * dtype_size(dt)),
                                              benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionDepth)->ArgsProduct({{32, 16, -16}, {1024, 4096, 8192}})->Unit(benchmark::kMillisecond);

// One fork/join of the pool with an empty body: the synchronisation every op pays.
void BM_ThreadPoolForkJoin(benchmark::State& st) {
  ThreadPool pool(int(st.range(0)));
  std::vector<int> touched(size_t(pool.size()) * 16);
  for (auto _ : st) pool.run([&](int t, int) { touched[size_t(t) * 16]++; });
  benchmark::DoNotOptimize(touched.data());
}
BENCHMARK(BM_ThreadPoolForkJoin)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace r1::kernels

BENCHMARK_MAIN();
