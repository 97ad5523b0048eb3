#pragma once
// A stand-in for the model's compute, for engine tests. It keeps a fake KV cache of (token, position) per
// slot, written and read through the block tables exactly as the decoder does, and its "logits" are a
// deterministic function of the whole token history READ BACK FROM THOSE SLOTS. So a wrong block table, a
// bad prefix-cache hit or a lost recompute changes the output (or trips a check), and the correct output of
// any sequence can be computed directly by reference_greedy().
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model_executor.h"

namespace r1::test {

class FakeExecutor : public ModelExecutor {
 public:
  struct Step {
    size_t n_tokens = 0;
    std::vector<SequenceSlice> seqs;
    size_t n_logit_rows = 0;
  };

  explicit FakeExecutor(size_t vocab = 97, size_t max_pos = 4096, std::vector<int32_t> eos = {})
      : vocab_(vocab), max_pos_(max_pos), eos_(std::move(eos)) {}

  // The token the fake model predicts after `history` (greedy), and its logits.
  static uint64_t history_hash(std::span<const int32_t> history) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t t : history) h = (h ^ uint64_t(uint32_t(t))) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  void fill_logits(std::span<const int32_t> history, float* row) const {
    uint64_t h = history_hash(history);
    int32_t best = int32_t(h % vocab_);
    for (size_t j = 0; j < vocab_; ++j) row[j] = -float((h >> 7) % 17 + (j * 31 + h) % 23) / 8.0f;
    row[best] = 4.0f;
  }
  int32_t predict(std::span<const int32_t> history) const { return int32_t(history_hash(history) % vocab_); }

  // Greedy continuation computed directly, with the engine's stop rules (EOS unless ignore_eos; stop ids).
  std::vector<int32_t> reference_greedy(std::vector<int32_t> tokens, size_t max_tokens,
                                        bool ignore_eos = true, const std::vector<int32_t>& stop = {}) const {
    std::vector<int32_t> out;
    while (out.size() < max_tokens) {
      int32_t id = predict(tokens);
      out.push_back(id);
      tokens.push_back(id);
      auto in = [id](const std::vector<int32_t>& v) { return std::find(v.begin(), v.end(), id) != v.end(); };
      if (in(stop) || (!ignore_eos && in(eos_))) break;
    }
    return out;
  }

  size_t vocab_size() const override { return vocab_; }
  size_t max_position_embeddings() const override { return max_pos_; }
  std::vector<int32_t> eos_token_ids() const override { return eos_; }
  size_t block_bytes(size_t block_size) const override { return block_size * 100; }
  void allocate_kv(size_t n_blocks, size_t block_size) override {
    block_size_ = block_size;
    slots_.assign(n_blocks * block_size, Slot{});
  }

  // forward() waits while the caller holds this lock: a test can queue requests while the engine is inside a
  // step, so that they are batched together however fast the engine loop runs.
  std::unique_lock<std::mutex> hold_steps() { return std::unique_lock<std::mutex>(mu_); }

  void forward(const ForwardBatch& b, float* logits) override {
    std::lock_guard lock(mu_);
    if (fail_next_) {
      fail_next_ = false;
      throw std::runtime_error("injected forward failure");
    }
    Step rec{b.tokens.size(), b.seqs, b.logit_rows.size()};
    steps_.push_back(rec);
    for (const SequenceSlice& s : b.seqs)
      for (size_t i = 0; i < s.n_tokens; ++i)
        slot(s, s.start_pos + i) = {b.tokens[s.first_token + i], int64_t(s.start_pos + i)};
    for (size_t r = 0; r < b.logit_rows.size(); ++r) {
      size_t row = size_t(b.logit_rows[r]);
      const SequenceSlice* seq = nullptr;
      for (const SequenceSlice& s : b.seqs)
        if (row >= s.first_token && row < s.first_token + s.n_tokens) seq = &s;
      if (!seq) throw std::logic_error("logit row outside every sequence");
      size_t last_pos = seq->start_pos + (row - seq->first_token);
      std::vector<int32_t> history;
      for (size_t p = 0; p <= last_pos; ++p) {
        const Slot& sl = slot(*seq, p);
        if (sl.pos != int64_t(p))
          throw std::logic_error("KV slot for position " + std::to_string(p) + " holds position " +
                                 std::to_string(sl.pos));
        history.push_back(sl.token);
      }
      fill_logits(history, logits + r * vocab_);
    }
  }

  std::vector<Step> steps() const {
    std::lock_guard lock(mu_);
    return steps_;
  }
  void fail_next_forward() {
    std::lock_guard lock(mu_);
    fail_next_ = true;
  }

 private:
  struct Slot {
    int32_t token = -1;
    int64_t pos = -1;
  };
  Slot& slot(const SequenceSlice& s, size_t pos) {
    size_t block = size_t(s.block_table[pos / block_size_]);
    size_t idx = block * block_size_ + pos % block_size_;
    if (idx >= slots_.size()) throw std::logic_error("block outside the pool");
    return slots_[idx];
  }

  size_t vocab_, max_pos_;
  std::vector<int32_t> eos_;
  size_t block_size_ = 0;
  std::vector<Slot> slots_;  // [n_blocks * block_size]
  mutable std::mutex mu_;
  std::vector<Step> steps_;
  bool fail_next_ = false;
};

}  // namespace r1::test
