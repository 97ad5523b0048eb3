#include "model/generation_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/model_config.h"

namespace r1 {

using nlohmann::json;

GenerationConfig GenerationConfig::from_file_if_present(const std::string& path) {
  GenerationConfig g;
  if (!std::filesystem::exists(path)) return g;
  json j = read_json_file(path);
  if (!j.is_object()) fail("{}: expected a JSON object", path);
  auto number = [&](const char* key) -> std::optional<double> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_number()) fail("{}: field \"{}\" must be a number, got {}", path, key, j[key].dump());
    return j[key].get<double>();
  };
  if (auto v = number("bos_token_id")) g.bos_token_id = int(*v);
  if (j.contains("eos_token_id")) {
    const json& e = j["eos_token_id"];
    if (e.is_number_integer()) {
      g.eos_token_ids = {e.get<int>()};
    } else if (e.is_array()) {
      for (const json& x : e) {
        if (!x.is_number_integer()) fail("{}: field \"eos_token_id\" must hold integers", path);
        g.eos_token_ids.push_back(x.get<int>());
      }
    } else if (!e.is_null()) {
      fail("{}: field \"eos_token_id\" must be an integer or a list", path);
    }
  }
  g.temperature = number("temperature");
  g.top_p = number("top_p");
  if (auto v = number("top_k")) g.top_k = int(*v);
  g.min_p = number("min_p");
  g.repetition_penalty = number("repetition_penalty");
  // do_sample=false means greedy in transformers, whatever temperature says.
  if (j.contains("do_sample") && j["do_sample"].is_boolean() && !j["do_sample"].get<bool>() && g.temperature)
    g.temperature = 0.0;
  return g;
}

}  // namespace r1
