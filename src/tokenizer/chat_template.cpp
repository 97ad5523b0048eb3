#include "tokenizer/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"

namespace r1 {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) fail("{}: read error", path);
  return s.str();
}

nlohmann::ordered_json read_json_file(const std::string& path) {
  std::string text = read_text(path);
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

// The template named "default" in the list form [{"name": ..., "template": ...}, ...].
std::string default_from_list(const nlohmann::ordered_json& list, const std::string& path) {
  std::string names;
  for (const auto& entry : list) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("template") || !entry["template"].is_string())
      fail("{}: \"chat_template\" list entries must be {{\"name\": string, \"template\": string}}", path);
    if (entry["name"] == "default") return entry["template"].get<std::string>();
    names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>();
  }
  fail("{}: \"chat_template\" has no template named \"default\" (it has: {})", path, names);
}

}  // namespace

ChatTemplate ChatTemplate::from_string(std::string source, std::string origin) {
  ChatTemplate t;
  std::vector<jinja::Token> tokens = jinja::tokenize(source, origin);
  t.program_ = std::make_shared<const jinja::Body>(jinja::parse(tokens, origin));
  t.source_ = std::move(source);
  t.origin_ = std::move(origin);
  return t;
}

std::optional<ChatTemplate> ChatTemplate::from_tokenizer_config(const std::string& path) {
  nlohmann::ordered_json config = read_json_file(path);
  if (!config.is_object()) fail("{}: expected a JSON object", path);
  auto it = config.find("chat_template");
  if (it != config.end() && !it->is_null()) {
    if (it->is_string()) return from_string(it->get<std::string>(), path);
    if (it->is_array()) return from_string(default_from_list(*it, path), path);
    fail("{}: \"chat_template\" must be a string or a list of named templates, got {}", path,
         it->type_name());
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::filesystem::path jinja_file = dir / "chat_template.jinja", json_file = dir / "chat_template.json";
  if (std::filesystem::exists(jinja_file))
    return from_string(read_text(jinja_file.string()), jinja_file.string());
  if (std::filesystem::exists(json_file)) {
    nlohmann::ordered_json j = read_json_file(json_file.string());
    if (!j.is_object() || !j.contains("chat_template") || !j["chat_template"].is_string())
      fail("{}: expected {{\"chat_template\": string}}", json_file.string());
    return from_string(j["chat_template"].get<std::string>(), json_file.string());
  }
  return std::nullopt;
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
  return render(nlohmann::ordered_json(context));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  R1_CHECK(program_, "render() of a ChatTemplate that was never parsed");
  if (!context.is_object()) fail("{}: the template context must be a JSON object", origin_);
  return jinja::render(*program_, origin_, std::make_shared<const jinja::Json>(context), limits_);
}

nlohmann::ordered_json special_tokens_from_tokenizer_config(const std::string& path) {
  nlohmann::ordered_json config = read_json_file(path);
  if (!config.is_object()) fail("{}: expected a JSON object", path);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) continue;
    if (it->is_string()) {
      out[key] = *it;
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      out[key] = (*it)["content"];
    } else {
      fail("{}: \"{}\" must be a string or an object with a string \"content\"", path, key);
    }
  }
  return out;
}

}  // namespace r1
