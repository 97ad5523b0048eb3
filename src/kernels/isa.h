#pragma once
// Instruction-set levels the CPU kernels are built for, and the table of kernel entry points for each.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/dtype.h"

namespace r1::kernels {

enum class Isa { Scalar, Avx2, Avx512 };
std::string_view isa_name(Isa isa);

// Computes y[t * ldy + r] = dot(x[t, :k], w[r, :k]) for t in [0, n) and r in [row_begin, row_end).
// x: [n, k] f32, w: [rows, k] in the table's weight dtype, row-major.
using MatmulRowsFn = void (*)(const float* x, size_t n, size_t k, const void* w, size_t row_begin,
                              size_t row_end, float* y, size_t ldy);

struct KernelTable {
  Isa isa;
  MatmulRowsFn matmul_rows_f32;
  MatmulRowsFn matmul_rows_bf16;
  MatmulRowsFn matmul_rows_f16;
};

// The table for an ISA, or nullptr if this CPU cannot run it.
const KernelTable* kernel_table_for(Isa isa);
// The best table for this CPU, chosen once. R1_ISA=scalar|avx2|avx512 in the environment caps it (for tests
// and comparisons).
const KernelTable& active_kernels();

// Per-ISA tables, defined in cpu/*_table.cpp.
const KernelTable& scalar_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();

}  // namespace r1::kernels
