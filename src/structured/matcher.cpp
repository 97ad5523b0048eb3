#include "structured/matcher.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace r1::structured {

namespace {
// Past this many pool nodes the committed state is copied into a fresh pool (stacks are small; garbage from
// past steps is not).
constexpr size_t kCompactAt = 1 << 16;

inline void set_bit(std::span<uint32_t> mask, int32_t id) {
  mask[size_t(id) >> 5] |= 1u << (id & 31);
}
inline bool has_bit(std::span<const uint32_t> mask, int32_t id) {
  return mask[size_t(id) >> 5] >> (id & 31) & 1;
}
}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> g)
    : g_(std::move(g)), m_(g_->automaton()) {
  m_.initial(state_);
}

bool GrammarMatcher::can_end() const {
  return !finished_ && std::find(state_.begin(), state_.end(), kDone) != state_.end();
}

bool GrammarMatcher::must_end() const {
  return can_end() && state_.size() == 1;
}

void GrammarMatcher::fill_mask(std::span<uint32_t> mask) {
  const Vocabulary& v = g_->vocab();
  R1_CHECK(mask.size() == v.mask_words(), "mask has {} words, the vocabulary needs {}", mask.size(),
           v.mask_words());
  std::fill(mask.begin(), mask.end(), 0u);
  if (finished_) return;
  for (int32_t s : state_) {
    if (s == kDone) continue;
    const TokenTable& t = g_->table(m_.at(s).node);
    if (!t.accepted_bits.empty()) {
      const uint32_t* src = t.accepted_bits.data();
      uint32_t* dst = mask.data();
      for (size_t i = 0, n = mask.size(); i < n; ++i) dst[i] |= src[i];
    }
    for (int32_t id : t.accepted) set_bit(mask, id);
    check_uncertain(s, t.uncertain, mask);
  }
  if (can_end())
    for (int32_t e : v.eos_ids()) set_bit(mask, e);
}

// Checks each uncertain token against the real stack. Tokens come in byte order, so each check resumes from
// the stacks left after the prefix it shares with the previous one.
void GrammarMatcher::check_uncertain(int32_t stack, const std::vector<int32_t>& ids,
                                     std::span<uint32_t> mask) {
  if (ids.empty()) return;
  const Vocabulary& v = g_->vocab();
  const size_t base = m_.mark();
  if (levels_.empty()) levels_.resize(1), marks_.resize(1);
  levels_[0].assign(1, stack);
  marks_[0] = base;
  const std::string* prev = nullptr;
  size_t valid = 0;  // levels_[0..valid] hold prev's stacks
  for (int32_t id : ids) {
    if (has_bit(mask, id)) continue;
    const std::string& b = v.bytes(id);
    size_t d = 0;
    if (prev)
      while (d < valid && d < b.size() && b[d] == (*prev)[d]) ++d;
    if (levels_.size() <= b.size()) levels_.resize(b.size() + 1), marks_.resize(b.size() + 1);
    m_.rollback(marks_[d]);
    while (d < b.size() && !levels_[d].empty()) {
      m_.advance(levels_[d], uint8_t(b[d]), levels_[d + 1]);
      ++d;
      marks_[d] = m_.mark();
    }
    valid = d;
    prev = &b;
    if (d == b.size() && !levels_[d].empty()) set_bit(mask, id);
  }
  m_.rollback(base);
}

bool GrammarMatcher::advance_bytes(std::string_view bytes, std::vector<int32_t>& out) {
  tmp_a_ = state_;
  for (char c : bytes) {
    m_.advance(tmp_a_, uint8_t(c), tmp_b_);
    if (tmp_b_.empty()) return false;
    std::swap(tmp_a_, tmp_b_);
  }
  out = tmp_a_;
  return true;
}

// advance_bytes with the stack pool rolled back to `mark` when it fails or throws (a success keeps what it
// pushed, for the caller to keep or roll back).
bool GrammarMatcher::advance_or_roll_back(std::string_view bytes, size_t mark, std::vector<int32_t>& next) {
  bool ok = false;
  try {
    ok = advance_bytes(bytes, next);
  } catch (...) {
    m_.rollback(mark);
    throw;
  }
  if (!ok) m_.rollback(mark);
  return ok;
}

bool GrammarMatcher::accept_text(std::string_view bytes) {
  if (finished_) return false;
  std::vector<int32_t> next;
  if (!advance_or_roll_back(bytes, m_.mark(), next)) return false;
  state_ = std::move(next);
  if (m_.pool_size() > kCompactAt) m_.compact(state_);
  return true;
}

bool GrammarMatcher::can_accept_text(std::string_view bytes) {
  if (finished_) return false;
  const size_t mark = m_.mark();
  std::vector<int32_t> next;
  const bool ok = advance_or_roll_back(bytes, mark, next);
  if (ok) m_.rollback(mark);
  return ok;
}

bool GrammarMatcher::accept(int32_t token) {
  const Vocabulary& v = g_->vocab();
  if (finished_ || token < 0 || size_t(token) >= v.size()) return false;
  const auto& eos = v.eos_ids();
  if (std::find(eos.begin(), eos.end(), token) != eos.end()) {
    if (!can_end()) return false;
    finished_ = true;
    return true;
  }
  const std::string& b = v.bytes(token);
  if (b.empty()) return false;
  return accept_text(b);
}

}  // namespace r1::structured
