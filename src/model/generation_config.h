#pragma once
// Sampling defaults and stop ids from a package's generation_config.json (absent fields stay unset, so the
// caller's defaults apply — as vLLM does).
#include <optional>
#include <string>
#include <vector>

namespace r1 {

struct GenerationConfig {
  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;

  // Reads the file if it exists; a missing file gives an empty config. Throws r1::Error on bad content.
  static GenerationConfig from_file_if_present(const std::string& path);
};

}  // namespace r1
