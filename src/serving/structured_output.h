#pragma once
// Structured output in serving's terms: what a request asks its answer to look like (a JSON schema, any JSON
// object, a regex, one of a list of strings, a GBNF grammar), compiled once per served model (a GrammarCache
// over the model's vocabulary) and attached to every choice as its own StructuredConstraint — with R1's
// reasoning first and the reasoning budget (docs/GRAMMARS.md, "Serving"). Adapters only translate their wire
// fields into an OutputFormat; the constraint is built here.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/token_constraint.h"
#include "structured/grammar_cache.h"
#include "structured/structured_constraint.h"

namespace r1 {
class Tokenizer;
}

namespace r1::serving {

// Whitespace allowed between JSON tokens in serving's grammars: room for ", " and ": " (or a newline and a
// space), while a small model cannot spend its max_tokens on blank space, as an unbounded run lets it.
constexpr uint32_t kJsonWhitespace = 2;

// What the answer must match. `field` is the request field errors point at, in the adapter's vocabulary
// (e.g. "response_format.json_schema.schema").
struct OutputFormat {
  structured::GrammarKind kind = structured::GrammarKind::json_object;
  std::string text;  // as structured::GrammarRequest::text
  std::string field;
};

// What every choice of one generation is constrained by; make() gives each choice its own state.
struct ConstraintSpec {
  std::shared_ptr<const structured::CompiledGrammar> grammar;  // null: the reasoning budget alone
  structured::ReasoningOptions reasoning;
  size_t vocab_size = 0;
  std::shared_ptr<TokenConstraint> make() const;
};

// One served model's grammars: the vocabulary (built on first use: serving that never constrains never pays
// for it), the cache, and the tokens of </think>. Thread-safe.
class StructuredOutputs {
 public:
  // `tok` must outlive this. `eos_ids`: the model's (the engine's); `vocab_size`: the model's mask width.
  StructuredOutputs(const Tokenizer& tok, std::vector<int32_t> eos_ids, size_t vocab_size);

  // The compiled grammar; throws ServingError invalid_request naming `f.field` (an unsupported schema
  // keyword, a regex error, a GBNF line) when it cannot be built.
  std::shared_ptr<const structured::CompiledGrammar> compile(const OutputFormat& f);

  // The constraint for one generation (`grammar` from compile(), or null), or none when nothing constrains
  // it. `starts_in_reasoning`: the output starts inside <think> (R1 templates, chat). `budget`: the request's
  // max_reasoning_tokens, else the server's default; with a grammar and no budget, half of max_tokens, so the
  // answer always starts.
  std::optional<ConstraintSpec> constraint(std::shared_ptr<const structured::CompiledGrammar> grammar,
                                           bool starts_in_reasoning, std::optional<int64_t> budget,
                                           size_t max_tokens) const;

  const std::vector<int32_t>& think_end_ids() const { return think_end_; }

 private:
  structured::GrammarCache& cache();

  const Tokenizer& tok_;
  std::vector<int32_t> eos_;
  size_t vocab_size_;
  std::vector<int32_t> think_end_;
  std::mutex mu_;
  std::unique_ptr<structured::GrammarCache> cache_;
};

}  // namespace r1::serving
