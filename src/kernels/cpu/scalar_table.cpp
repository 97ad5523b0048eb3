// The scalar table: the reference kernels, for CPUs without AVX2 (and as the slowest dispatch choice).
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/isa.h"
#include "kernels/ref/ref_ops.h"

namespace r1::kernels {

namespace {
template <DType D>
void matmul_rows_scalar(const float* x, size_t n, size_t k, const void* w, size_t rb, size_t re, float* y,
                        size_t ldy) {
  ref::matmul_rows(x, n, k, w, D, rb, re, y, ldy);
}
void quantize_q8_0_scalar(const float* x, size_t n_blocks, void* out) {
  ref::quantize_q8_0(x, n_blocks, static_cast<ref::BlockQ8_0*>(out));
}
void quantize_q4_0_scalar(const float* x, size_t n_blocks, void* out) {
  ref::quantize_q4_0(x, n_blocks, static_cast<ref::BlockQ4_0*>(out));
}
}  // namespace

const KernelTable& scalar_kernel_table() {
  static const KernelTable t{Isa::Scalar,
                             matmul_rows_scalar<DType::F32>,
                             matmul_rows_scalar<DType::BF16>,
                             matmul_rows_scalar<DType::F16>,
                             cpu::scalar_qmatmul_q8_0,
                             cpu::scalar_qmatmul_q4_0,
                             cpu::scalar_qmatmul_q4_1,
                             cpu::scalar_qmatmul_q5_0,
                             cpu::scalar_qmatmul_q5_1,
                             cpu::scalar_qmatmul_q4_k,
                             cpu::scalar_qmatmul_q5_k,
                             cpu::scalar_qmatmul_q6_k,
                             cpu::scalar_attention,
                             ref::quantize_act_rows,
                             ref::silu_mul,
                             quantize_q8_0_scalar,
                             quantize_q4_0_scalar};
  return t;
}

}  // namespace r1::kernels
