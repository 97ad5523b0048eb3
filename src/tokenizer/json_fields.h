#pragma once
// Reading tokenizer.json / tokenizer_config.json as untrusted input: every accessor names the file and the
// JSON path of the field it could not use ("tokenizer.json: pre_tokenizer.pretokenizers[0].pattern: ...").
#include <nlohmann/json.hpp>
#include <string>

namespace r1::tok {

using json = nlohmann::json;

// Where in which file a value lives, for error messages.
struct JsonPlace {
  std::string file;
  std::string path;
  JsonPlace field(const std::string& key) const { return {file, path.empty() ? key : path + "." + key}; }
  JsonPlace index(size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }
  std::string str() const { return path.empty() ? file : file + ": " + path; }
};

[[noreturn]] void fail_at(const JsonPlace& at, const std::string& problem);

const json& need(const json& obj, const char* key, const JsonPlace& at);
const json& need_object(const json& obj, const JsonPlace& at);
const json& need_array(const json& arr, const JsonPlace& at);
std::string need_string(const json& obj, const char* key, const JsonPlace& at);
std::string get_string(const json& obj, const char* key, const JsonPlace& at, const std::string& dflt);
bool get_bool(const json& obj, const char* key, const JsonPlace& at, bool dflt);
int64_t get_int(const json& obj, const char* key, const JsonPlace& at, int64_t dflt);
// The "type" of a component object.
std::string type_of(const json& obj, const JsonPlace& at);

}  // namespace r1::tok
