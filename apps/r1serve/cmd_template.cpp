// r1serve template: render a conversation with a model's chat template and print the prompt exactly (no
// trailing newline added), so it can be diffed against transformers' apply_chat_template(tokenize=False).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace r1::app {

namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  std::string chat_template;
  bool no_generation_prompt = false;
};

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The messages file: a JSON list of messages, or an object with "messages" (and optionally "tools" and any
// other template variables).
nlohmann::ordered_json read_conversation(const std::string& path) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(read_whole_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  nlohmann::ordered_json ctx = j.is_array() ? nlohmann::ordered_json{{"messages", j}} : j;
  if (!ctx.is_object()) fail("{}: expected a list of messages or an object with \"messages\"", path);
  if (!ctx.contains("messages") || !ctx["messages"].is_array())
    fail("{}: \"messages\" must be a list of {{\"role\", \"content\"}} objects", path);
  for (size_t i = 0; i < ctx["messages"].size(); ++i) {
    const auto& m = ctx["messages"][i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      fail("{}: messages[{}] must be an object with a string \"role\"", path, i);
  }
  if (ctx.contains("tools") && !ctx["tools"].is_array() && !ctx["tools"].is_null())
    fail("{}: \"tools\" must be a list", path);
  return ctx;
}

int render_template(const TemplateOptions& o) {
  std::string config = (std::filesystem::path(o.model) / "tokenizer_config.json").string();
  std::optional<ChatTemplate> tmpl;
  if (!o.chat_template.empty()) {
    tmpl = ChatTemplate::from_string(read_whole_file(o.chat_template), o.chat_template);
  } else {
    tmpl = ChatTemplate::from_tokenizer_config(config);
    if (!tmpl)
      fail("{}: no \"chat_template\" (and no chat_template.jinja beside it); pass --chat-template FILE",
           config);
  }
  nlohmann::ordered_json ctx = std::filesystem::exists(config) ? special_tokens_from_tokenizer_config(config)
                                                               : nlohmann::ordered_json::object();
  nlohmann::ordered_json conversation = read_conversation(o.messages);
  for (auto& [k, v] : conversation.items()) ctx[k] = v;
  ctx["add_generation_prompt"] = !o.no_generation_prompt;
  std::string prompt = tmpl->render(ctx);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  std::fflush(stdout);
  return 0;
}

void register_template(CLI::App& app, Action& action) {
  auto o = std::make_shared<TemplateOptions>();
  CLI::App* cmd =
      app.add_subcommand("template", "Render chat messages into a prompt with the model's chat template");
  cmd->add_option("--model", o->model,
                  "Model folder (tokenizer_config.json), store name NAME[:TAG], or Hub id ORG/NAME[@REV]")
      ->required();
  cmd->add_option("--messages", o->messages,
                  "JSON file: [{role, content}...] or {\"messages\": [...], \"tools\": [...]}")
      ->required();
  cmd->add_option("--chat-template", o->chat_template, "Jinja file to use instead of the model's template");
  cmd->add_flag("--no-generation-prompt", o->no_generation_prompt,
                "Do not open an assistant turn at the end");
  cmd->callback([&action, o] {
    action = [o] {
      o->model = resolve_model_arg(o->model).dir;
      return render_template(*o);
    };
  });
}

const CommandRegistrar kRegisterTemplate(register_template);

}  // namespace
}  // namespace r1::app
