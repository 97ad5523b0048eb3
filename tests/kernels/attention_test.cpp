// The paged attention kernel of every ISA table this CPU runs, against ref::attention_one (double
// accumulation, F32 cache), for F32, F16 and BF16 caches, odd head sizes, scattered block tables and contexts
// of 1..300.
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
    size_t head_dim, n_kv_heads, block_size, n_ctx;
  };
  for (Case c : {Case{8, 4, 16, 1}, Case{128, 2, 16, 300}, Case{64, 3, 7, 45}, Case{19, 1, 5, 33},
                 Case{130, 2, 16, 17}}) {
    SCOPED_TRACE(testing::Message() << "hd=" << c.head_dim << " ctx=" << c.n_ctx);
    const size_t stride = c.n_kv_heads * c.head_dim,
                 n_blocks = (c.n_ctx + c.block_size - 1) / c.block_size + 3;
    std::vector<int32_t> table(n_blocks);
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), rng);  // positions scattered over the pool
    const size_t n = n_blocks * c.block_size * stride;
    std::vector<float> k(n), v(n), q(c.head_dim);
    for (auto* vec : {&k, &v, &q})
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
    std::vector<float> want(c.head_dim), got(c.head_dim), s1(c.n_ctx), s2(c.n_ctx);
    for (size_t h = 0; h < c.n_kv_heads; ++h) {
      ref::attention_one(q.data(), rv, h, c.n_ctx, c.head_dim, scale, s1.data(), want.data());
      kt->attention(q.data(), view, h, c.n_ctx, c.head_dim, scale, s2.data(), got.data());
      for (size_t d = 0; d < c.head_dim; ++d)
        ASSERT_NEAR(got[d], want[d], 1e-5f) << "head " << h << " d " << d;
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
