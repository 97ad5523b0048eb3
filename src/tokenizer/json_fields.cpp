#include "tokenizer/json_fields.h"

#include "core/error.h"

namespace r1::tok {

void fail_at(const JsonPlace& at, const std::string& problem) {
  fail("{}: {}", at.str(), problem);
}

const json& need_object(const json& obj, const JsonPlace& at) {
  if (!obj.is_object()) fail_at(at, "expected an object, got " + std::string(obj.type_name()));
  return obj;
}

const json& need_array(const json& arr, const JsonPlace& at) {
  if (!arr.is_array()) fail_at(at, "expected an array, got " + std::string(arr.type_name()));
  return arr;
}

const json& need(const json& obj, const char* key, const JsonPlace& at) {
  need_object(obj, at);
  auto it = obj.find(key);
  if (it == obj.end()) fail_at(at, std::string("missing field \"") + key + "\"");
  return *it;
}

std::string need_string(const json& obj, const char* key, const JsonPlace& at) {
  const json& v = need(obj, key, at);
  if (!v.is_string()) fail_at(at.field(key), "expected a string, got " + std::string(v.type_name()));
  return v.get<std::string>();
}

std::string get_string(const json& obj, const char* key, const JsonPlace& at, const std::string& dflt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_string()) fail_at(at.field(key), "expected a string, got " + std::string(it->type_name()));
  return it->get<std::string>();
}

bool get_bool(const json& obj, const char* key, const JsonPlace& at, bool dflt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_boolean())
    fail_at(at.field(key), "expected true or false, got " + std::string(it->type_name()));
  return it->get<bool>();
}

int64_t get_int(const json& obj, const char* key, const JsonPlace& at, int64_t dflt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_number_integer())
    fail_at(at.field(key), "expected an integer, got " + std::string(it->type_name()));
  return it->get<int64_t>();
}

std::string type_of(const json& obj, const JsonPlace& at) {
  return need_string(obj, "type", at);
}

}  // namespace r1::tok
