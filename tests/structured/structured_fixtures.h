#pragma once
// Vocabularies and helpers for the grammar engine tests: a small byte-level vocabulary built in code, the
// real Qwen2/R1-Distill vocabulary (npm package pinned in tests/js), and whole-text / token-level checks.
#include <memory>
#include <string>
#include <vector>

#include "structured/compiled_grammar.h"
#include "structured/grammar.h"
#include "structured/matcher.h"
#include "structured/vocabulary.h"

namespace r1::test {

// Every single byte (ids 0-255), then `extra` multi-byte tokens, then one EOS id.
std::shared_ptr<const structured::Vocabulary> small_vocab(const std::vector<std::string>& extra = {});
int32_t small_eos(const structured::Vocabulary& v);
// The Qwen2 / R1-Distill-Qwen vocabulary padded to 151,936 ids, EOS 151643; nullptr when tests/js has no
// node_modules (the caller skips).
std::shared_ptr<const structured::Vocabulary> qwen_vocab();

std::shared_ptr<const structured::CompiledGrammar> compile(const structured::Grammar& g,
                                                           std::shared_ptr<const structured::Vocabulary> v);
// Whether the grammar accepts the whole text and may end there (byte by byte, no tokens involved).
bool matches(const std::shared_ptr<const structured::CompiledGrammar>& g, const std::string& text);
// The ids the mask allows right after `prefix`.
std::vector<int32_t> allowed_after(const std::shared_ptr<const structured::CompiledGrammar>& g,
                                   const std::string& prefix);
bool mask_has(const std::vector<uint32_t>& mask, int32_t id);

}  // namespace r1::test
