#include "tokenizer/bpe_model.h"

#include <queue>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace r1::tok {

namespace {

// A ByteLevel token string ("Ġthe") as the raw bytes it stands for (" the"); strings with characters outside
// the alphabet (added tokens such as "<|im_start|>" are inside it, but "<｜User｜>" is not) stay as written.
std::string to_model_space(std::string_view token, bool byte_level) {
  if (!byte_level) return std::string(token);
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size();) {
    Utf8Step st = utf8_step(token, i);
    int b = byte_level_byte(st.cp);
    if (b < 0) return std::string(token);
    out += char(b);
    i += st.len;
  }
  return out;
}

// One merge rule from either file format: "a b" or ["a", "b"], as views into `m`.
std::pair<std::string_view, std::string_view> parse_merge(const json& m, const JsonPlace& at) {
  if (m.is_string()) {
    std::string_view s = m.get_ref<const std::string&>();
    size_t sp = s.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size() || s.find(' ', sp + 1) != std::string::npos)
      fail_at(at, "merge \"" + std::string(s) + "\" is not two tokens separated by one space");
    return {s.substr(0, sp), s.substr(sp + 1)};
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return {m[0].get_ref<const std::string&>(), m[1].get_ref<const std::string&>()};
  fail_at(at, "a merge must be \"a b\" or [\"a\", \"b\"]");
}

}  // namespace

BpeModel::BpeModel(const json& model, bool byte_level, const JsonPlace& at) : byte_level_(byte_level) {
  need_object(model, at);
  std::string type = get_string(model, "type", at, "BPE");
  if (type != "BPE") fail_at(at.field("type"), "model type \"" + type + "\" is not supported (only BPE)");
  if (!get_string(model, "continuing_subword_prefix", at, "").empty() ||
      !get_string(model, "end_of_word_suffix", at, "").empty())
    fail_at(at, "continuing_subword_prefix / end_of_word_suffix are not supported");
  if (auto it = model.find("dropout"); it != model.end() && !it->is_null() && it->get<double>() > 0)
    fail_at(at.field("dropout"), "BPE dropout is not supported (inference tokenizers have none)");
  byte_fallback_ = get_bool(model, "byte_fallback", at, false);
  fuse_unk_ = get_bool(model, "fuse_unk", at, false);
  ignore_merges_ = get_bool(model, "ignore_merges", at, false);

  JsonPlace vocab_at = at.field("vocab");
  const json& vocab = need_object(need(model, "vocab", at), vocab_at);
  piece_to_id_.reserve(vocab.size() * 2);
  bool model_space_collision = false;  // two written tokens stand for the same bytes
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (1 << 26))
      fail_at(vocab_at.field(it.key()), "token id must be an integer in [0, 2^26)");
    auto id = int32_t(it.value().get<int64_t>());
    if (size_t(id) >= id_to_token_.size()) id_to_token_.resize(size_t(id) + 1);
    if (!id_to_token_[size_t(id)].empty())
      fail_at(vocab_at, fmt::format("id {} is given to both \"{}\" and \"{}\"", id, id_to_token_[size_t(id)],
                                    it.key()));
    if (it.key().empty()) fail_at(vocab_at, "empty token string");
    id_to_token_[size_t(id)] = it.key();
    if (!piece_to_id_.emplace(to_model_space(it.key(), byte_level_), id).second) model_space_collision = true;
  }

  byte_ids_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    std::string key = byte_level_ ? std::string(1, char(b)) : fmt::format("<0x{:02X}>", b);
    if (auto id = lookup(key)) byte_ids_[size_t(b)] = *id;
  }

  // Merges name tokens as written. Resolving them through a map of the written strings skips converting
  // ~450k strings to model space (most of the build time of a 150k-token vocabulary); it gives what
  // token_to_id gives whenever no two written tokens share a model-space string (then written -> id ->
  // model space -> id is the identity), else, and for strings not written in the vocabulary, token_to_id
  // decides.
  std::unordered_map<std::string_view, int32_t> written;
  if (!model_space_collision) {
    written.reserve(id_to_token_.size() * 2);
    for (size_t id = 0; id < id_to_token_.size(); ++id)
      if (!id_to_token_[id].empty()) written.emplace(id_to_token_[id], int32_t(id));
  }
  auto resolve = [&](std::string_view token) -> std::optional<int32_t> {
    if (auto it = written.find(token); it != written.end()) return it->second;
    return token_to_id(token);
  };
  JsonPlace merges_at = at.field("merges");
  const json& merges = need_array(need(model, "merges", at), merges_at);
  merges_.reserve(merges.size() * 2);
  std::string ab;
  for (size_t i = 0; i < merges.size(); ++i) {
    auto [a, b] = parse_merge(merges[i], merges_at.index(i));
    ab.assign(a).append(b);
    auto ia = resolve(a), ib = resolve(b), im = resolve(ab);
    if (!ia || !ib || !im)
      fail_at(merges_at.index(i), "merge \"" + std::string(a) + " " + std::string(b) +
                                      "\" uses a token missing from the vocabulary");
    merges_.emplace(pair_key(*ia, *ib), MergeResult{int32_t(i), *im});
  }

  std::string unk = get_string(model, "unk_token", at, "");
  if (!unk.empty()) {
    unk_id_ = token_to_id(unk);
    if (!unk_id_) fail_at(at.field("unk_token"), "\"" + unk + "\" is not in the vocabulary");
  }
}

std::optional<int32_t> BpeModel::lookup(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  if (it == piece_to_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  return lookup(to_model_space(token, byte_level_));
}

const std::string& BpeModel::id_to_token(int32_t id) const {
  static const std::string kNone;
  if (id < 0 || size_t(id) >= id_to_token_.size()) return kNone;
  return id_to_token_[size_t(id)];
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& ids) const {
  if (byte_level_) {
    for (char c : word) {
      int32_t id = byte_ids_[uint8_t(c)];
      if (id < 0) fail("tokenizer.json: the ByteLevel vocabulary has no token for byte 0x{:02X}", uint8_t(c));
      ids.push_back(id);
    }
    return;
  }
  bool prev_unk = false;
  for (size_t i = 0; i < word.size();) {
    size_t len = utf8_step(word, i).len;
    std::string_view ch = word.substr(i, len);
    i += len;
    if (auto id = lookup(ch)) {
      ids.push_back(*id);
      prev_unk = false;
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : ch) all = all && byte_ids_[uint8_t(c)] >= 0;
      if (all) {
        for (char c : ch) ids.push_back(byte_ids_[uint8_t(c)]);
        prev_unk = false;
        continue;
      }
    }
    // Unknown character: the unk token (consecutive ones fused when fuse_unk), or dropped when there is none.
    if (unk_id_ && !(fuse_unk_ && prev_unk)) ids.push_back(*unk_id_);
    prev_unk = unk_id_.has_value();
  }
}

void BpeModel::merge(std::vector<int32_t>& ids) const {
  const size_t n = ids.size();
  if (n < 2) return;
  // Symbols form a doubly linked list; candidates wait in a min-heap ordered by (rank, position) — the lowest
  // rank merges first and ties go to the leftmost pair, as in Hugging Face. Stale candidates are skipped.
  struct Sym {
    int32_t id, prev, next;
  };
  struct Cand {
    int32_t rank, pos, id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Sym> syms;
  thread_local std::vector<Cand> heap_storage;
  syms.resize(n);
  for (size_t i = 0; i < n; ++i) syms[i] = {ids[i], int32_t(i) - 1, i + 1 < n ? int32_t(i + 1) : -1};
  heap_storage.clear();
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap(std::greater<Cand>(),
                                                                        std::move(heap_storage));
  auto consider = [&](int32_t pos) {
    if (pos < 0 || syms[size_t(pos)].next < 0) return;
    auto it = merges_.find(pair_key(syms[size_t(pos)].id, syms[size_t(syms[size_t(pos)].next)].id));
    if (it != merges_.end()) heap.push({it->second.rank, pos, it->second.id});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(int32_t(i));
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    Sym& l = syms[size_t(c.pos)];
    if (l.id < 0 || l.next < 0) continue;
    Sym& r = syms[size_t(l.next)];
    auto it = merges_.find(pair_key(l.id, r.id));
    if (it == merges_.end() || it->second.rank != c.rank) continue;
    l.id = c.id;
    r.id = -1;
    l.next = r.next;
    if (l.next >= 0) syms[size_t(l.next)].prev = c.pos;
    consider(l.prev);
    consider(c.pos);
  }
  ids.clear();
  for (int32_t i = 0; i >= 0; i = syms[size_t(i)].next) ids.push_back(syms[size_t(i)].id);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_)
    if (auto id = lookup(word)) {
      out.push_back(*id);
      return;
    }
  bool cacheable = word.size() <= kCacheMaxWordBytes;
  thread_local std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  thread_local std::vector<int32_t> ids;
  ids.clear();
  initial_symbols(word, ids);
  merge(ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kCacheMaxEntries) cache_.clear();
    cache_.emplace(key, ids);
  }
}

}  // namespace r1::tok
