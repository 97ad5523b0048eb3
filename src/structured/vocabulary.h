#pragma once
// The token vocabulary a grammar is compiled against: the bytes each token adds to the text, which ids a
// grammar may never produce (special and added tokens such as <think>, and ids past the tokenizer's
// vocabulary that pad the model's embedding), and the EOS ids. Tokens are kept in a byte trie laid out in
// preorder, so a walk can skip every token sharing a rejected prefix in one step.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace r1 {
class Tokenizer;
}

namespace r1::structured {

struct TrieNode {
  uint8_t byte = 0;          // the edge from the parent
  uint16_t depth = 0;        // bytes from the root (the root is node 0, depth 0)
  uint32_t subtree_end = 0;  // first node after this node's subtree
  uint32_t tok_begin = 0;    // tokens ending here: Vocabulary::trie_tokens()[tok_begin, tok_end)
  uint32_t tok_end = 0;
};

class Vocabulary {
 public:
  // size: the mask width, at least every id's index + 1 (the model's vocab_size, which may exceed the
  // tokenizer's). token_bytes[id]: the bytes of id (empty: never allowed by a grammar). Throws r1::Error when
  // an EOS id is outside [0, size) or a token is longer than 65535 bytes.
  Vocabulary(size_t size, std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids);

  // From a tokenizer: every non-added token's bytes; `size` 0 means the tokenizer's vocab_size().
  static std::shared_ptr<const Vocabulary> from_tokenizer(const Tokenizer& tok, std::vector<int32_t> eos_ids,
                                                          size_t size = 0);

  size_t size() const { return size_; }
  size_t mask_words() const { return (size_ + 31) / 32; }
  const std::string& bytes(int32_t id) const { return bytes_[size_t(id)]; }
  const std::vector<int32_t>& eos_ids() const { return eos_; }
  const std::vector<TrieNode>& trie() const { return trie_; }
  const std::vector<int32_t>& trie_tokens() const { return trie_tokens_; }
  // The tokens in trie (byte) order; the position of each token id in that order.
  int32_t trie_rank(int32_t id) const { return rank_[size_t(id)]; }

 private:
  size_t size_;
  std::vector<std::string> bytes_;
  std::vector<int32_t> eos_;
  std::vector<TrieNode> trie_;
  std::vector<int32_t> trie_tokens_;
  std::vector<int32_t> rank_;
};

}  // namespace r1::structured
