#pragma once
// What `r1serve list` says about a GGUF file without reading its weights: the header and metadata only
// (the tensor data is mapped, never touched), so listing a store of multi-GB models stays instant.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace r1::store {

struct GgufSummary {
  std::string architecture;  // the ModelConfig's ("Qwen2ForCausalLM"), else general.architecture, else ""
  uint64_t parameters = 0;   // 0 when the config could not be made
  std::string file_type;     // general.file_type as llama.cpp names it ("Q4_K_M"), "" when absent
  std::string problem;       // "" when r1serve would load it; else the loader's one-line refusal
};

// Never throws for a bad file: the refusal is in `problem`.
GgufSummary summarize_gguf(const std::filesystem::path& file);

// llama.cpp's name for a general.file_type value (enum llama_ftype): 15 -> "Q4_K_M"; nullopt when unknown.
std::optional<std::string> llama_file_type_name(uint32_t ftype);

}  // namespace r1::store
