// Any byte string given as a GBNF grammar, a JSON schema or a regex must compile and match, or fail with
// r1::Error — never crash, hang or exhaust memory (nesting, repetition counts and automaton sizes are
// bounded). The first byte picks the parser; the rest is the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "structured/gbnf.h"
#include "structured/json_schema.h"
#include "structured/matcher.h"
#include "structured/regex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace r1::structured;
  static const std::shared_ptr<const Vocabulary> vocab = [] {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
    for (const char* t : {"\"", "{\"", "\":", "\", \"", "true", "12", "\xe4\xb8", "\xad"}) bytes.push_back(t);
    bytes.push_back("");
    return std::make_shared<const Vocabulary>(bytes.size(), bytes,
                                              std::vector<int32_t>{int32_t(bytes.size() - 1)});
  }();
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    Grammar g;
    switch (data[0] % 3) {
      case 0:
        g = parse_gbnf(text);
        break;
      case 1: {
        const auto j = nlohmann::ordered_json::parse(text, nullptr, false);
        if (j.is_discarded()) return 0;
        g = json_schema_grammar(j);
        break;
      }
      default:
        g = regex_grammar(text);
        break;
    }
    GrammarCompileOptions opts;
    opts.limits.max_nodes = 20000;
    auto compiled = std::make_shared<const CompiledGrammar>(g, vocab, opts);
    GrammarMatcher m(compiled);
    std::vector<uint32_t> mask(vocab->mask_words());
    // Walk the lowest allowed token a few steps: exercises tables, run-time checks and acceptance.
    for (int step = 0; step < 16 && !m.finished(); ++step) {
      m.fill_mask(mask);
      int32_t pick = -1;
      for (size_t i = 0; i < vocab->size() && pick < 0; ++i)
        if (mask[i >> 5] >> (i & 31) & 1) pick = int32_t(i);
      if (pick < 0 || !m.accept(pick)) break;
    }
  } catch (const r1::Error&) {
  }
  return 0;
}
