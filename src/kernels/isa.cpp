#include "kernels/isa.h"

#include <cpuid.h>

#include <cstdlib>
#include <string>

namespace r1::kernels {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

// F16C is CPUID.1:ECX bit 29 (not every compiler's __builtin_cpu_supports knows its name).
static bool has_f16c() {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}

static bool cpu_supports(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

QMatmulFn qmatmul_for(const KernelTable& t, DType fmt) {
  switch (fmt) {
    case DType::Q8_0:
      return t.qmatmul_q8_0;
    case DType::Q4_0:
      return t.qmatmul_q4_0;
    case DType::Q4_1:
      return t.qmatmul_q4_1;
    case DType::Q5_0:
      return t.qmatmul_q5_0;
    case DType::Q5_1:
      return t.qmatmul_q5_1;
    case DType::Q4_K:
      return t.qmatmul_q4_k;
    case DType::Q5_K:
      return t.qmatmul_q5_k;
    case DType::Q6_K:
      return t.qmatmul_q6_k;
    default:
      return nullptr;
  }
}

const KernelTable* kernel_table_for(Isa isa) {
  if (!cpu_supports(isa)) return nullptr;
  switch (isa) {
    case Isa::Scalar:
      return &scalar_kernel_table();
    case Isa::Avx2:
      return &avx2_kernel_table();
    case Isa::Avx512:
      return &avx512_kernel_table();
  }
  return nullptr;
}

const KernelTable& active_kernels() {
  static const KernelTable* table = [] {
    Isa cap = Isa::Avx512;
    if (const char* env = std::getenv("R1_ISA")) {
      std::string s(env);
      if (s == "scalar")
        cap = Isa::Scalar;
      else if (s == "avx2")
        cap = Isa::Avx2;
    }
    for (Isa isa : {Isa::Avx512, Isa::Avx2}) {
      if (int(isa) <= int(cap))
        if (const KernelTable* t = kernel_table_for(isa)) return t;
    }
    return &scalar_kernel_table();
  }();
  return *table;
}

}  // namespace r1::kernels
