#include "structured/vocabulary.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace r1::structured {

Vocabulary::Vocabulary(size_t size, std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids)
    : size_(size), bytes_(std::move(token_bytes)), eos_(std::move(eos_ids)) {
  if (bytes_.size() > size_) fail("vocabulary: {} tokens do not fit a mask of {} ids", bytes_.size(), size_);
  bytes_.resize(size_);
  for (int32_t e : eos_)
    if (e < 0 || size_t(e) >= size_) fail("vocabulary: EOS id {} is outside [0, {})", e, size_);
  // EOS is governed by the grammar's end, never matched as text.
  for (int32_t e : eos_) bytes_[size_t(e)].clear();
  std::vector<int32_t> order;
  for (size_t i = 0; i < size_; ++i) {
    if (bytes_[i].size() > 0xFFFF)
      fail("vocabulary: token {} is {} bytes long (at most 65535)", i, bytes_[i].size());
    if (!bytes_[i].empty()) order.push_back(int32_t(i));
  }
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return bytes_[a] < bytes_[b]; });
  rank_.assign(size_, -1);
  // Preorder trie from the sorted tokens: `path` holds the nodes of the previous token's bytes.
  trie_.push_back({});
  std::vector<uint32_t> path{0};
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& b = bytes_[size_t(id)];
    size_t lcp = 0;
    if (prev)
      while (lcp < b.size() && lcp < prev->size() && b[lcp] == (*prev)[lcp]) ++lcp;
    while (path.size() > lcp + 1) {
      trie_[path.back()].subtree_end = uint32_t(trie_.size());
      path.pop_back();
    }
    for (size_t d = lcp; d < b.size(); ++d) {
      TrieNode n;
      n.byte = uint8_t(b[d]);
      n.depth = uint16_t(d + 1);
      n.tok_begin = n.tok_end = uint32_t(trie_tokens_.size());
      trie_.push_back(n);
      path.push_back(uint32_t(trie_.size() - 1));
    }
    TrieNode& last = trie_[path.back()];
    if (last.tok_end != trie_tokens_.size()) last.tok_begin = last.tok_end = uint32_t(trie_tokens_.size());
    rank_[size_t(id)] = int32_t(trie_tokens_.size());
    trie_tokens_.push_back(id);
    last.tok_end = uint32_t(trie_tokens_.size());
    prev = &b;
  }
  while (!path.empty()) {
    trie_[path.back()].subtree_end = uint32_t(trie_.size());
    path.pop_back();
  }
  // Nodes without tokens of their own start where their subtree's tokens start.
  for (size_t i = trie_.size(); i-- > 0;) {
    TrieNode& n = trie_[i];
    if (n.tok_begin == n.tok_end) {
      const uint32_t next = i + 1 < trie_.size() && i + 1 < n.subtree_end ? trie_[i + 1].tok_begin
                                                                          : uint32_t(trie_tokens_.size());
      n.tok_begin = n.tok_end = std::min(next, uint32_t(trie_tokens_.size()));
    }
  }
}

std::shared_ptr<const Vocabulary> Vocabulary::from_tokenizer(const Tokenizer& tok,
                                                             std::vector<int32_t> eos_ids, size_t size) {
  const size_t n = tok.vocab_size();
  std::vector<std::string> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = int32_t(i);
    if (tok.is_added(id) || tok.id_to_token(id).empty()) continue;
    bytes[i] = tok.token_bytes(id, true);
  }
  return std::make_shared<const Vocabulary>(size ? size : n, std::move(bytes), std::move(eos_ids));
}

}  // namespace r1::structured
