#include "tokenizer/jinja/text.h"

#include <utf8proc.h>

#include <algorithm>

namespace r1::jinja {

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Decodes one well-formed UTF-8 character; returns 0xFFFFFFFF for anything else.
uint32_t decode(std::string_view ch) {
  auto b = [&](size_t i) { return uint32_t(static_cast<unsigned char>(ch[i])); };
  if (ch.size() == 1 && b(0) < 0x80) return b(0);
  if (ch.size() == 2 && (b(0) & 0xE0) == 0xC0) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (ch.size() == 3 && (b(0) & 0xF0) == 0xE0)
    return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  if (ch.size() == 4 && (b(0) & 0xF8) == 0xF0)
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  return 0xFFFFFFFF;
}

std::vector<std::string_view> split_chars(std::string_view s) {
  std::vector<size_t> off = char_offsets(s);
  std::vector<std::string_view> out;
  out.reserve(off.size() - 1);
  for (size_t i = 0; i + 1 < off.size(); ++i) out.push_back(s.substr(off[i], off[i + 1] - off[i]));
  return out;
}

}  // namespace

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> off;
  off.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    // A stray continuation byte at the start counts as its own character.
    if (!is_continuation(static_cast<unsigned char>(s[i])) || i == 0) off.push_back(i);
  }
  off.push_back(s.size());
  return off;
}

size_t char_length(std::string_view s) {
  return char_offsets(s).size() - 1;
}

bool is_space_char(std::string_view ch) {
  uint32_t c = decode(ch);
  // Python's str.isspace(): ASCII whitespace, the information separators, and Unicode's Zs/Zl/Zp.
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return true;
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<std::string_view> cs = split_chars(s);
  std::vector<std::string_view> strip_set;
  if (chars) strip_set = split_chars(*chars);
  auto strip_it = [&](std::string_view ch) {
    if (!chars) return is_space_char(ch);
    return std::find(strip_set.begin(), strip_set.end(), ch) != strip_set.end();
  };
  size_t begin = 0, end = cs.size();
  if (left)
    while (begin < end && strip_it(cs[begin])) ++begin;
  if (right)
    while (end > begin && strip_it(cs[end - 1])) --end;
  if (begin == end) return {};
  size_t from = cs[begin].data() - s.data();
  size_t to = cs[end - 1].data() - s.data() + cs[end - 1].size();
  return std::string(s.substr(from, to - from));
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    size_t start = 0;
    while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
      size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  std::vector<std::string_view> cs = split_chars(s);
  size_t i = 0;
  while (i < cs.size()) {
    while (i < cs.size() && is_space_char(cs[i])) ++i;
    if (i == cs.size()) break;
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
      // Python keeps the remainder as is, trailing whitespace included.
      out.emplace_back(s.substr(cs[i].data() - s.data()));
      break;
    }
    size_t j = i;
    while (j < cs.size() && !is_space_char(cs[j])) ++j;
    size_t from = cs[i].data() - s.data();
    size_t to = cs[j - 1].data() - s.data() + cs[j - 1].size();
    out.emplace_back(s.substr(from, to - from));
    i = j;
  }
  return out;
}

std::string py_replace(std::string_view s, std::string_view old_s, std::string_view new_s, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old_s.empty()) {
    std::vector<std::string_view> cs = split_chars(s);
    for (size_t i = 0; i <= cs.size(); ++i) {
      if (count < 0 || done < count) {
        out += new_s;
        ++done;
      }
      if (i < cs.size()) out += cs[i];
    }
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    size_t at = s.find(old_s, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start)).append(new_s);
    start = at + old_s.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

namespace {

// Maps every well-formed character through `map`; invalid bytes pass through unchanged.
template <typename Map>
std::string map_chars(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  for (std::string_view ch : split_chars(s)) {
    uint32_t c = decode(ch);
    if (c == 0xFFFFFFFF) {
      out += ch;
      continue;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(map(utf8proc_int32_t(c)), buf);
    out.append(reinterpret_cast<const char*>(buf), size_t(n));
  }
  return out;
}

bool is_cased_letter(uint32_t c) {
  utf8proc_category_t cat = utf8proc_category(utf8proc_int32_t(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

}  // namespace

std::string py_upper(std::string_view s) {
  return map_chars(s, utf8proc_toupper);
}
std::string py_lower(std::string_view s) {
  return map_chars(s, utf8proc_tolower);
}

std::string py_title(std::string_view s) {
  bool prev_cased = false;
  return map_chars(s, [&](utf8proc_int32_t c) {
    bool cased = is_cased_letter(uint32_t(c));
    utf8proc_int32_t out = cased ? (prev_cased ? utf8proc_tolower(c) : utf8proc_totitle(c)) : c;
    prev_cased = cased;
    return out;
  });
}

std::string py_capitalize(std::string_view s) {
  bool first = true;
  return map_chars(s, [&](utf8proc_int32_t c) {
    utf8proc_int32_t out = first ? utf8proc_totitle(c) : utf8proc_tolower(c);
    first = false;
    return out;
  });
}

}  // namespace r1::jinja
