// --kv-cache-dtype: the explicit names, and what "auto" resolves to for each weight precision and checkpoint
// dtype (16-bit for the R1 distills, F32 on the exact --dtype f32 path).
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/kv_cache.h"

namespace r1 {
namespace {

ModelConfig with_torch_dtype(const std::string& t) {
  ModelConfig c;
  c.torch_dtype = t;
  return c;
}

TEST(KvCacheDtype, ExplicitNamesWinOverTheModel) {
  const ModelConfig bf16 = with_torch_dtype("bfloat16");
  EXPECT_EQ(resolve_kv_cache_dtype("f32", bf16, WeightPrecision::Q4), DType::F32);
  EXPECT_EQ(resolve_kv_cache_dtype("float16", bf16, WeightPrecision::F32), DType::F16);
  EXPECT_EQ(resolve_kv_cache_dtype("bf16", with_torch_dtype("float32"), WeightPrecision::F32), DType::BF16);
  EXPECT_FALSE(parse_kv_cache_dtype("auto").has_value());
  EXPECT_THROW(parse_kv_cache_dtype("f8"), Error);
  EXPECT_THROW(resolve_kv_cache_dtype("", bf16, WeightPrecision::Auto), Error);
}

TEST(KvCacheDtype, AutoIsTheModelsComputePrecision) {
  // The R1 distills ship bfloat16 weights: a 16-bit cache at every precision but the exact f32 path.
  const ModelConfig r1 = with_torch_dtype("bfloat16");
  for (WeightPrecision p :
       {WeightPrecision::Auto, WeightPrecision::BF16, WeightPrecision::Q8, WeightPrecision::Q4})
    EXPECT_EQ(resolve_kv_cache_dtype("auto", r1, p), DType::BF16) << weight_precision_name(p);
  EXPECT_EQ(resolve_kv_cache_dtype("auto", r1, WeightPrecision::F32), DType::F32);
  // Other checkpoints keep their own precision, as vLLM's auto does; a config without torch_dtype gets bf16.
  EXPECT_EQ(resolve_kv_cache_dtype("auto", with_torch_dtype("float16"), WeightPrecision::Q4), DType::F16);
  EXPECT_EQ(resolve_kv_cache_dtype("auto", with_torch_dtype("float32"), WeightPrecision::Auto), DType::F32);
  EXPECT_EQ(resolve_kv_cache_dtype("auto", with_torch_dtype("float32"), WeightPrecision::BF16), DType::BF16);
  EXPECT_EQ(resolve_kv_cache_dtype("auto", with_torch_dtype(""), WeightPrecision::Q8), DType::BF16);
}

}  // namespace
}  // namespace r1
