#include "tokenizer/added_tokens.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace r1::tok {

AddedTokens::AddedTokens(const json& list, const JsonPlace& at) {
  if (list.is_null()) return;
  need_array(list, at);
  for (size_t i = 0; i < list.size(); ++i) {
    JsonPlace t_at = at.index(i);
    const json& t = need_object(list[i], t_at);
    AddedToken a;
    int64_t id = get_int(t, "id", t_at, -1);
    if (id < 0 || id >= (1 << 26)) fail_at(t_at.field("id"), "missing, or not an id in [0, 2^26)");
    a.id = int32_t(id);
    a.content = need_string(t, "content", t_at);
    if (a.content.empty()) fail_at(t_at.field("content"), "empty added token");
    if (find_invalid_utf8(a.content) != std::string::npos) fail_at(t_at.field("content"), "not valid UTF-8");
    a.single_word = get_bool(t, "single_word", t_at, false);
    a.lstrip = get_bool(t, "lstrip", t_at, false);
    a.rstrip = get_bool(t, "rstrip", t_at, false);
    a.special = get_bool(t, "special", t_at, false);
    a.normalized = get_bool(t, "normalized", t_at, !a.special);
    if (by_id_.count(a.id)) fail_at(t_at.field("id"), fmt::format("id {} is listed twice", a.id));
    any_normalized_ = any_normalized_ || a.normalized;
    max_id_ = std::max(max_id_, a.id);
    by_id_[a.id] = tokens_.size();
    by_content_.emplace(a.content, tokens_.size());
    tokens_.push_back(std::move(a));
  }
  for (size_t i = 0; i < tokens_.size(); ++i)
    first_byte_[tokens_[i].normalized ? 1 : 0][uint8_t(tokens_[i].content[0])].push_back(i);
  for (auto& table : first_byte_)
    for (auto& v : table)
      std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) {
        return tokens_[a].content.size() > tokens_[b].content.size();
      });
}

const AddedToken* AddedTokens::find(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedTokens::find(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

namespace {

// Code point that ends just before byte `i` (i > 0).
int32_t code_point_before(std::string_view s, size_t i, size_t* start = nullptr) {
  size_t b = i - 1;
  while (b > 0 && (uint8_t(s[b]) & 0xC0) == 0x80) --b;
  if (start) *start = b;
  return utf8_step(s, b).cp;
}

}  // namespace

void AddedTokens::split(std::string_view text, bool normalized, std::vector<Segment>& out) const {
  const auto& table = first_byte_[normalized ? 1 : 0];
  size_t gap = 0;
  size_t i = 0;
  while (i < text.size()) {
    const auto& cands = table[uint8_t(text[i])];
    const AddedToken* hit = nullptr;
    for (size_t idx : cands) {
      const AddedToken& t = tokens_[idx];
      if (text.size() - i < t.content.size() ||
          std::memcmp(text.data() + i, t.content.data(), t.content.size()))
        continue;
      if (t.single_word) {
        size_t e = i + t.content.size();
        if (i > 0 && is_word_char(code_point_before(text, i))) continue;
        if (e < text.size() && is_word_char(utf8_step(text, e).cp)) continue;
      }
      hit = &t;
      break;
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t start = i, end = i + hit->content.size();
    if (hit->lstrip) {
      size_t s = 0;
      while (start > gap && is_unicode_whitespace(code_point_before(text, start, &s))) start = s;
    }
    if (hit->rstrip) {
      while (end < text.size()) {
        Utf8Step st = utf8_step(text, end);
        if (!is_unicode_whitespace(st.cp)) break;
        end += st.len;
      }
    }
    if (start > gap) out.push_back({text.substr(gap, start - gap), gap, -1});
    out.push_back({{}, start, hit->id});
    gap = i = end;
  }
  if (gap < text.size()) out.push_back({text.substr(gap), gap, -1});
}

}  // namespace r1::tok
