// The paged attention kernel of every ISA table this CPU runs, against ref::attention_one (double
// accumulation, F32 cache), for F32, F16 and BF16 caches, odd head sizes, scattered block tables and contexts
// of 1..2100, with 1 to 11 query heads per KV head. The reference gets the 16-bit caches' values widened
// back, so the kernels' widening as they stream is checked exactly and only float accumulation separates the
// two: outputs are softmax-weighted means of values in [-2, 2], whose float rounding stays far inside 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/ref/ref_ops.h"

namespace r1::kernels {
namespace {

class Attention : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(Attention, MatchesReference) {
  auto [isa, dt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct Case {
    size_t head_dim, n_kv_heads, block_size, n_ctx, n_q;
  };
  // n_q covers every register-blocked group size of the kernels (1..8) and a split group (11 = 8 + 3). The
  // kernels tile rows by 4 (AVX-512) or 2 (AVX2) within a block and columns by 16·C or 8·C with C of 1 to 8
  // by group size, so block sizes 3, 5 and 7 leave ragged row tiles and head sizes 19, 24, 80, 130 ragged
  // column passes (80: a pass of four 16-column slices with one past the head); 1000 and 2100 positions
  // (6 and 8 heads, the 1.5B's and 70B's groups) run the long softmax over many blocks.
  for (Case c : {Case{8, 4, 16, 1, 1}, Case{128, 2, 16, 300, 6}, Case{64, 3, 7, 45, 4}, Case{19, 1, 5, 33, 7},
                 Case{130, 2, 16, 17, 8}, Case{128, 1, 16, 70, 11}, Case{32, 2, 4, 9, 2},
                 Case{16, 2, 3, 5, 3}, Case{24, 1, 8, 520, 5}, Case{80, 2, 16, 1000, 6},
                 Case{128, 1, 16, 2100, 8}, Case{256, 1, 5, 77, 3}}) {
    SCOPED_TRACE(testing::Message() << "hd=" << c.head_dim << " ctx=" << c.n_ctx << " n_q=" << c.n_q);
    const size_t stride = c.n_kv_heads * c.head_dim,
                 n_blocks = (c.n_ctx + c.block_size - 1) / c.block_size + 3;
    std::vector<int32_t> table(n_blocks);
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), rng);  // positions scattered over the pool
    const size_t n = n_blocks * c.block_size * stride;
    std::vector<float> k(n), v(n);
    for (auto* vec : {&k, &v})
      for (float& x : *vec) x = u(rng) * 2.0f;
    // The cache in the tested dtype, and the same values widened back for the reference.
    std::vector<uint16_t> k16(n), v16(n);
    if (dt != DType::F32) {
      for (size_t i = 0; i < n; ++i) {
        k16[i] = dt == DType::F16 ? f32_to_f16(k[i]) : f32_to_bf16(k[i]);
        v16[i] = dt == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
        k[i] = dt == DType::F16 ? f16_to_f32(k16[i]) : bf16_to_f32(k16[i]);
        v[i] = dt == DType::F16 ? f16_to_f32(v16[i]) : bf16_to_f32(v16[i]);
      }
    }
    const float scale = 1.0f / std::sqrt(float(c.head_dim));
    KvView view{dt == DType::F32 ? static_cast<const void*>(k.data()) : k16.data(),
                dt == DType::F32 ? static_cast<const void*>(v.data()) : v16.data(),
                dt,
                stride,
                table.data(),
                c.block_size};
    ref::PagedKv rv{k.data(), v.data(), stride, table.data(), c.block_size};
    // n_q query heads per KV head, stored with a gap between them (strides wider than head_dim) to catch
    // stride mix-ups; outputs keep sentinels in the gaps.
    const size_t n_q = c.n_q, q_stride = c.head_dim + 3, out_stride = c.head_dim + 5;
    std::vector<float> qs(n_q * q_stride);
    for (float& x : qs) x = u(rng) * 2.0f;
    std::vector<float> want(c.head_dim), got(n_q * out_stride, 777.0f), s1(c.n_ctx), s2(n_q * c.n_ctx);
    for (size_t kvh = 0; kvh < c.n_kv_heads; ++kvh) {
      std::fill(got.begin(), got.end(), 777.0f);
      kt->attention(qs.data(), n_q, q_stride, view, kvh, c.n_ctx, c.head_dim, scale, s2.data(), got.data(),
                    out_stride);
      for (size_t h = 0; h < n_q; ++h) {
        ref::attention_one(qs.data() + h * q_stride, rv, kvh, c.n_ctx, c.head_dim, scale, s1.data(),
                           want.data());
        for (size_t d = 0; d < c.head_dim; ++d)
          ASSERT_NEAR(got[h * out_stride + d], want[d], 1e-5f) << "kv head " << kvh << " q " << h << " d " << d;
        for (size_t d = c.head_dim; d < out_stride; ++d) ASSERT_EQ(got[h * out_stride + d], 777.0f);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, Attention,
                         ::testing::Combine(::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                                            ::testing::Values(DType::F32, DType::F16, DType::BF16)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_" +
                                  std::string(dtype_name(std::get<1>(info.param)));
                         });

}  // namespace
}  // namespace r1::kernels
