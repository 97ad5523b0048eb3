#pragma once
// One generation's position in a compiled grammar: which tokens may come next (a bitmask over the vocabulary)
// and the state after each accepted token. EOS is allowed exactly where the grammar may end. Not thread-safe;
// one per request (the CompiledGrammar behind it is shared).
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "structured/compiled_grammar.h"
#include "structured/stack_machine.h"

namespace r1::structured {

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> g);

  // Writes the allowed next tokens: bit (id % 32) of mask[id / 32] set = allowed. mask.size() must be
  // vocab().mask_words(). After the EOS was accepted, nothing is allowed.
  void fill_mask(std::span<uint32_t> mask);
  // Advances by one token. False (state unchanged) when the token is not allowed here.
  bool accept(int32_t token);
  // Advances by raw text (tests, forced prefixes). False (state unchanged) when the grammar rejects it.
  bool accept_text(std::string_view bytes);
  // Whether accept_text(bytes) would succeed, without advancing.
  bool can_accept_text(std::string_view bytes);

  bool can_end() const;                        // EOS allowed now
  bool must_end() const;                       // nothing but EOS allowed now
  bool finished() const { return finished_; }  // EOS accepted
  const CompiledGrammar& grammar() const { return *g_; }

 private:
  bool advance_bytes(std::string_view bytes, std::vector<int32_t>& out);
  bool advance_or_roll_back(std::string_view bytes, size_t mark, std::vector<int32_t>& next);
  void check_uncertain(int32_t stack, const std::vector<int32_t>& ids, std::span<uint32_t> mask);

  std::shared_ptr<const CompiledGrammar> g_;
  StackMachine m_;
  std::vector<int32_t> state_;
  bool finished_ = false;
  // Scratch for checks, kept to avoid allocations per step.
  std::vector<std::vector<int32_t>> levels_;
  std::vector<size_t> marks_;
  std::vector<int32_t> tmp_a_, tmp_b_;
};

}  // namespace r1::structured
