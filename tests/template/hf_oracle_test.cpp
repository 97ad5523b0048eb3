// Renders conversations and small feature templates with our interpreter and with @huggingface/jinja (the
// reference the shared vectors came from), in the same test run, and requires byte-identical output. Cases
// cover multi-turn chats, system prompts, <think> stripping, tool calls and tool results for the R1-Distill,
// Qwen2.5 and Llama 3.1 templates, and the Jinja features typical Hugging Face templates use.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "support/test_support.h"
#include "tokenizer/chat_template.h"

namespace r1 {
namespace {

using ojson = nlohmann::ordered_json;
using test::shared_path;

struct Case {
  std::string name, template_path;
  ojson context;
};

// run_command spawns without a PATH search, so find node the way a shell would.
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

ojson msg(const std::string& role, const ojson& content) {
  return {{"role", role}, {"content", content}};
}

ojson fn_call(const std::string& name, const ojson& arguments) {
  return {{"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

const ojson kWeatherTool = ojson::parse(R"({"type": "function", "function": {"name": "get_weather",
  "description": "Current weather in a city, with \"quotes\" and ünïcode",
  "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}})");

ojson chat(ojson messages, bool gen, const std::string& bos, const std::string& eos) {
  return {{"messages", std::move(messages)},
          {"add_generation_prompt", gen},
          {"bos_token", bos},
          {"eos_token", eos}};
}

void add_r1_cases(std::vector<Case>& cases, const std::string& path, const std::string& tag) {
  const std::string bos = "<｜begin▁of▁sentence｜>", eos = "<｜end▁of▁sentence｜>";
  ojson think_chat = {msg("system", "You are terse."),
                      msg("user", "Hi"),
                      msg("assistant", "<think>\ngreeting\n</think>\n\nHello."),
                      msg("user", "2+2?"),
                      msg("assistant", "<think>a</think>b</think>\n\n4"),
                      msg("user", "Thanks")};
  cases.push_back({tag + "multi_turn_think_system", path, chat(think_chat, true, bos, eos)});
  ojson tool_chat = {
      msg("user", "Weather in Paris and Rome?"),
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls",
        {fn_call("get_weather", "{\"city\": \"Paris\"}"), fn_call("get_weather", "{\"city\": \"Rome\"}")}}},
      msg("tool", "{\"temp\": 21}"),
      msg("tool", "{\"temp\": 25}")};
  cases.push_back({tag + "tool_outputs_last", path, chat(tool_chat, true, bos, eos)});
  tool_chat.push_back(msg("assistant", "Paris 21, Rome 25."));
  tool_chat.push_back(msg("user", "And Oslo?"));
  cases.push_back({tag + "tool_round_trip", path, chat(tool_chat, true, bos, eos)});
  cases.push_back({tag + "no_generation_prompt", path, chat(tool_chat, false, bos, eos)});
  ojson with_tools = chat(tool_chat, true, bos, eos);
  with_tools["tools"] = ojson::array({kWeatherTool});
  cases.push_back({tag + "tools_given", path, with_tools});
}

void add_qwen_cases(std::vector<Case>& cases, const std::string& path) {
  const std::string eos = "<|im_end|>";
  cases.push_back({"qwen/default_system", path, chat({msg("user", "Hello")}, true, "", eos)});
  cases.push_back(
      {"qwen/system_multi_turn", path,
       chat({msg("system", "Be kind."), msg("user", "a"), msg("assistant", "b"), msg("user", "c")}, true, "",
            eos)});
  ojson tools_chat = chat({msg("system", "Use tools."),
                           msg("user", "Weather in Paris and Rome?"),
                           {{"role", "assistant"},
                            {"content", "Checking."},
                            {"tool_calls",
                             {fn_call("get_weather", {{"city", "Paris"}, {"unit", "celsius"}}),
                              {{"name", "get_weather"}, {"arguments", {{"city", "Rome"}}}}}}},
                           msg("tool", "21C"),
                           msg("tool", "25C"),
                           msg("assistant", "Paris 21C, Rome 25C."),
                           msg("user", "Thanks")},
                          true, "", eos);
  tools_chat["tools"] = ojson::array({kWeatherTool});
  cases.push_back({"qwen/tools_and_tool_calls", path, tools_chat});
  ojson no_system = tools_chat;
  no_system["messages"].erase(0);
  no_system["add_generation_prompt"] = false;
  cases.push_back({"qwen/tools_default_system", path, no_system});
}

void add_llama_cases(std::vector<Case>& cases, const std::string& path) {
  const std::string bos = "<|begin_of_text|>", eos = "<|eot_id|>";
  cases.push_back({"llama/plain", path, chat({msg("user", "  Hello  ")}, true, bos, eos)});
  cases.push_back(
      {"llama/system_multi_turn", path,
       chat({msg("system", " Be kind. "), msg("user", "a"), msg("assistant", "b"), msg("user", "c")}, false,
            bos, eos)});
  ojson tool_turns = {msg("system", "Tools allowed."),
                      msg("user", "Weather in Paris?"),
                      {{"role", "assistant"}, {"tool_calls", {fn_call("get_weather", {{"city", "Paris"}})}}},
                      msg("tool", "21C"),
                      msg("ipython", {{"temp", 21}, {"sky", "clear"}}),
                      msg("assistant", "It is 21C."),
                      msg("user", "Thanks")};
  ojson tools = chat(tool_turns, true, bos, eos);
  tools["tools"] = ojson::array({kWeatherTool});
  cases.push_back({"llama/tools_in_user_message", path, tools});
  tools["tools_in_user_message"] = false;
  tools["date_string"] = "01 Jan 2025";
  cases.push_back({"llama/tools_in_system_message", path, tools});
  ojson builtin = chat({msg("user", "Search for jinja"),
                        {{"role", "assistant"},
                         {"tool_calls", {fn_call("brave_search", {{"query", "jinja"}, {"count", "3"}})}}},
                        msg("ipython", "results")},
                       true, bos, eos);
  cases.push_back({"llama/ipython_without_builtin_tools", path, builtin});
  ojson two_calls = chat({msg("user", "x"),
                          {{"role", "assistant"},
                           {"tool_calls", {fn_call("a", ojson::object()), fn_call("b", ojson::object())}}}},
                         true, bos, eos);
  cases.push_back({"llama/two_tool_calls_raise", path, two_calls});
}

// Small templates exercising Jinja features, each written to a file in `dir`.
void add_feature_cases(std::vector<Case>& cases, const test::TempDir& dir) {
  ojson data = ojson::parse(R"({"x": 1, "n": null, "s": "héllo wörld 你好", "xs": [1, 2, 3, 4],
    "d": {"b": 1, "a": 2, "k": "v"}, "obj": {"name": "t\"q\"", "list": [1, "two", null, true, {"z": []}], "e": {}},
    "users": [{"name": "ann", "active": true, "role": "admin"}, {"name": "bob", "active": false, "role": "user"},
              {"name": "cy", "active": true, "role": "user"}]})");
  const std::pair<const char*, const char*> templates[] = {
      {"whitespace",
       "Line1\n  {% if x %}\n    yes\n  {% endif %}\n{%- for i in xs -%}\n [{{ i }}] \n{%- endfor %}\n"
       "  {{- ' end' }}\n{# a comment #}\ntail {{ x }}  \n  {#- trimmed #}\n  {%- if x -%}  kept  {% endif "
       "%}\n{{ x -}}\n\n  after\n"},
      {"loops",
       "{% for m in xs %}{{ loop.index }}:{{ loop.index0 }}:{{ loop.revindex }}:{{ loop.length }}"
       "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %};{% else %}empty{% endfor %}|"
       "{% for x in [] %}x{% else %}none{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}|"
       "{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% endfor %}|"
       "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}"
       "{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for i in range(3) %}{{ i }}{% endfor %}"
       "{% for i in range(5, 1, -2) %}{{ i }}{% endfor %}"},
      {"strings",
       "{{ s[::-1] }}|{{ s[1:] }}|{{ s[:-2] }}|{{ s[1:8:2] }}|{{ s.split(' ') | join('+') }}|{{ '  pad  "
       "'.strip() }}|"
       "{% if s.startswith('hé') %}Y{% endif %}{% if s.endswith('好') %}Y{% endif %}|{{ s.upper() }}|{{ "
       "s|upper }}|"
       "{{ 'ABC'|lower }}|{{ s|replace('l', 'L') }}|{{ 'a,b,,c'.split(',')|length }}|{{ s|length }}|"
       "{{ 'x' ~ 1 ~ 'y' }}|{{ 'ab' + 'cd' }}|{{ '--' ~ s[0] ~ s[-1] }}|"
       "|{{ 'a\\tb\\n' }}|{{ \"q'uote\" }}|{{ 'hello world'|title }}"},
      {"filters",
       "{{ xs|first }}{{ xs|last }}{{ xs|length }}|{{ missing|default('dflt') }}|{{ ''|default('e', true) }}|"
       "{{ users|selectattr('active')|map(attribute='name')|join(',') }}|"
       "{{ users|rejectattr('role', 'equalto', 'admin')|map(attribute='name')|join(',') }}|"
       "{{ users|selectattr('role', 'equalto', 'user')|list|length }}|{{ obj|tojson }}|{{ "
       "obj|tojson(indent=2) }}|"
       "{{ '  t  '|trim }}|{{ xs|reverse|join }}|{{ d|items|length }}|{{ xs|join(', ') }}|{{ d|tojson }}|"
       "{{ s|tojson }}|{{ [3, 1, 2]|sort|join }}|{{ ['b', 'a', 'b']|unique|join }}"},
      {"namespace_macro_set",
       "{% set ns = namespace(count=0, names='') %}{% for u in users %}{% set ns.count = ns.count + 1 %}"
       "{% set ns.names = ns.names ~ u.name %}{% endfor %}{{ ns.count }} {{ ns.names }}|"
       "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }}{{ "
       "greet('b', '?') }}"
       "{{ greet(name='c', punct='.') }}|{% set y = 5 %}{% for i in xs %}{% set y = i %}{% endfor %}{{ y }}|"
       "{% set a, b = [1, 2] %}{{ a }}{{ b }}|{% set blk %}inner {{ 1 + 1 }}{% endset %}[{{ blk }}]|"
       "{% filter upper %}shout {{ s[:5] }}{% endfilter %}"},
      {"tests_and_operators",
       "{% if x is defined %}D{% endif %}{% if y is not defined %}U{% endif %}{% if n is none %}N{% endif %}"
       "{% if s is string %}S{% endif %}{% if d is mapping %}M{% endif %}{% if xs is iterable %}I{% endif %}"
       "{% if 3 is odd %}O{% endif %}{% if 4 is even %}E{% endif %}{% if 'a' in 'cat' %}in{% endif %}"
       "{% if 'k' in d %}K{% endif %}{% if 2 in xs %}2{% endif %}{% if 9 not in xs %}!9{% endif %}"
       "{% if not n %}!n{% endif %}{% if x == 1 and not (x != 1) %}eq{% endif %}|"
       "{{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 3 }} {{ -3 + 10 }} {{ 'yes' if x else 'no' }} {{ 'no' if n }}|"
       "{{ (1 + 2) * 3 }} {{ ([1, 2] + [3]) | length }} {{ x and 'A' or 'B' }} {{ n or 'fallback' }}|"
       "{{ d.get('missing', 'fb') }}{{ d.get('k') }}{{ d['a'] }}{{ d.a }}|{{ d.keys() | join(',') }}|"
       "{% if users[0].name == 'ann' %}ann{% endif %}{{ users[-1]['name'] }}|{{ {'k': [1, 2]}['k'][1] }}"},
  };
  for (const auto& [name, text] : templates) {
    std::string file = dir.file(std::string(name) + ".jinja");
    std::ofstream(file, std::ios::binary) << text;
    cases.push_back({std::string("feature/") + name, file, data});
  }
}

TEST(ChatTemplateOracle, MatchesHuggingFaceJinja) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  std::string node = find_on_path("node");
  if (node.empty()) GTEST_SKIP() << "node (Node.js) is not on PATH; it runs the @huggingface/jinja reference";
  test::TempDir dir;
  std::vector<Case> cases;
  std::string tdir = shared_path("chat-templates/");
  add_r1_cases(cases, tdir + "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "r1-qwen/");
  add_r1_cases(cases, tdir + "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", "r1-llama/");
  add_r1_cases(cases, tdir + "llama-cpp-deepseek-r1.jinja", "llama-cpp-r1/");
  add_qwen_cases(cases, tdir + "Qwen-Qwen2.5-7B-Instruct.jinja");
  add_llama_cases(cases, tdir + "meta-llama-Llama-3.1-8B-Instruct.jinja");
  add_feature_cases(cases, dir);

  ojson input = ojson::array();
  for (const Case& c : cases) input.push_back({{"template", c.template_path}, {"context", c.context}});
  std::ofstream(dir.file("cases.json")) << input.dump();
  auto r = test::run_command({node, std::string(R1_TEMPLATE_TEST_DIR) + "/render_hf_jinja.mjs",
                              test::js_dir(), dir.file("cases.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ojson expected = ojson::parse(r.out);
  ASSERT_EQ(expected.size(), cases.size());

  size_t compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    ChatTemplate t =
        ChatTemplate::from_string(test::read_file(cases[i].template_path), cases[i].template_path);
    if (expected[i].contains("error")) {
      // The reference rejects this conversation (raise_exception in the template): so must we.
      EXPECT_THROW(t.render(cases[i].context), Error) << "reference error: " << expected[i]["error"];
      continue;
    }
    std::string ours;
    try {
      ours = t.render(cases[i].context);
    } catch (const Error& e) {
      ADD_FAILURE() << "we failed where the reference rendered: " << e.what();
      continue;
    }
    EXPECT_EQ(ours, expected[i]["rendered"].get<std::string>());
    ++compared;
  }
  EXPECT_GE(compared, cases.size() - 1);  // only the raise_exception case may be an error
}

}  // namespace
}  // namespace r1
