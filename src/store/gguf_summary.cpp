#include "store/gguf_summary.h"

#include <array>

#include "core/error.h"
#include "model/model_package.h"
#include "model/weights.h"

namespace r1::store {

std::optional<std::string> llama_file_type_name(uint32_t ftype) {
  // llama.h's enum llama_ftype; the gaps are values llama.cpp retired (4-6, 33-35).
  static constexpr std::array<const char*, 39> kNames = {
      "F32",    "F16",    "Q4_0",   "Q4_1",    nullptr,  nullptr,  nullptr,  "Q8_0",   "Q5_0",     "Q5_1",
      "Q2_K",   "Q3_K_S", "Q3_K_M", "Q3_K_L",  "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K",     "IQ2_XXS",
      "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S",  "IQ4_NL", "IQ3_S",  "IQ3_M",  "IQ2_S",    "IQ2_M",
      "IQ4_XS", "IQ1_M",  "BF16",   nullptr,   nullptr,  nullptr,  "TQ1_0",  "TQ2_0",  "MXFP4_MOE"};
  if (ftype < kNames.size() && kNames[ftype]) return kNames[ftype];
  return std::nullopt;
}

GgufSummary summarize_gguf(const std::filesystem::path& file) {
  GgufSummary s;
  try {
    ModelPackage pkg = ModelPackage::open(file.string());
    if (const GgufFile* g = pkg.gguf()) {
      const auto& md = g->metadata();
      if (auto it = md.find("general.file_type"); it != md.end() && it->is_number_unsigned()) {
        const auto ft = it->get<uint32_t>();
        s.file_type = llama_file_type_name(ft).value_or("file type " + std::to_string(ft));
      }
    }
    s.architecture = pkg.config().architecture;
    s.parameters = pkg.config().n_params();
    Weights::check(pkg);
  } catch (const Error& e) {
    s.problem = e.what();
  }
  return s;
}

}  // namespace r1::store
