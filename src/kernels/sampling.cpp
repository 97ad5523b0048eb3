#include "kernels/sampling.h"

#include "kernels/ref/ref_sampling.h"

namespace r1::kernels {

namespace {
const SamplingKernels scalar_table{Isa::Scalar,   ref::argmax,      ref::exp_shifted,
                                   ref::select_range, ref::mass_ge,     ref::keep_weights};
const SamplingKernels avx2_table{Isa::Avx2,           cpu::avx2_argmax,  cpu::avx2_exp_shifted,
                                 cpu::avx2_select_range, cpu::avx2_mass_ge, cpu::avx2_keep_weights};
const SamplingKernels avx512_table{Isa::Avx512,           cpu::avx512_argmax,  cpu::avx512_exp_shifted,
                                   cpu::avx512_select_range, cpu::avx512_mass_ge, cpu::avx512_keep_weights};
}  // namespace

const SamplingKernels* sampling_kernels_for(Isa isa) {
  if (!kernel_table_for(isa)) return nullptr;  // this CPU cannot run it
  switch (isa) {
    case Isa::Scalar:
      return &scalar_table;
    case Isa::Avx2:
      return &avx2_table;
    case Isa::Avx512:
      return &avx512_table;
  }
  return nullptr;
}

const SamplingKernels& active_sampling_kernels() {
  static const SamplingKernels* table = sampling_kernels_for(active_kernels().isa);
  return *table;
}

}  // namespace r1::kernels
