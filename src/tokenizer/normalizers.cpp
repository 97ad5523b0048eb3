#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <vector>

#include "core/error.h"
#include "tokenizer/regex_split.h"
#include "tokenizer/utf8.h"

namespace r1::tok {

namespace {

bool is_ascii(const std::string& s) {
  for (char c : s)
    if (uint8_t(c) >= 0x80) return false;
  return true;
}

class UnicodeNormalizer : public Normalizer {
 public:
  UnicodeNormalizer(utf8proc_option_t options, bool ascii_is_fixed)
      : options_(options), ascii_fixed_(ascii_is_fixed) {}
  // ASCII is already in every normalization form, never composes onto a preceding character and blocks
  // reordering, so only each non-ASCII run (with the one ASCII character before it, which marks may compose
  // onto) needs utf8proc; mostly-English text stays on the fast path.
  void normalize(std::string& text) const override {
    if (ascii_fixed_ && is_ascii(text)) return;
    std::string out;
    out.reserve(text.size() + 16);
    size_t i = 0;
    while (i < text.size()) {
      size_t run = i;
      while (run < text.size() && uint8_t(text[run]) < 0x80) ++run;
      if (run == text.size()) {
        out.append(text, i, std::string::npos);
        break;
      }
      size_t start = run > i ? run - 1 : run;  // include the ASCII base character
      out.append(text, i, start - i);
      size_t end = run;
      while (end < text.size() && uint8_t(text[end]) >= 0x80) ++end;
      map_span(std::string_view(text).substr(start, end - start), out);
      i = end;
    }
    text.swap(out);
  }

 private:
  void map_span(std::string_view span, std::string& out) const {
    utf8proc_uint8_t* mapped = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(span.data()),
                                      utf8proc_ssize_t(span.size()), &mapped, options_);
    if (n < 0) fail("normalizer: utf8proc failed: {}", utf8proc_errmsg(n));
    out.append(reinterpret_cast<const char*>(mapped), size_t(n));
    std::free(mapped);
  }

  utf8proc_option_t options_;
  bool ascii_fixed_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      Utf8Step st = utf8_step(text, i);
      append_utf8(out, uint32_t(utf8proc_tolower(st.cp)));
      i += st.len;
    }
    text.swap(out);
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t b = 0, e = text.size();
    if (left_) {
      while (b < e) {
        Utf8Step st = utf8_step(text, b);
        if (!is_unicode_whitespace(st.cp)) break;
        b += st.len;
      }
    }
    if (right_) {
      while (e > b) {
        size_t s = e - 1;
        while (s > b && (uint8_t(text[s]) & 0xC0) == 0x80) --s;
        if (!is_unicode_whitespace(utf8_step(text, s).cp)) break;
        e = s;
      }
    }
    text = text.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prefix_(std::move(p)) {}
  // Hugging Face prepends only to non-empty text.
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(const json& j, const JsonPlace& at)
      : replacer_(need(j, "pattern", at), need_string(j, "content", at), at.field("pattern")) {}
  void normalize(std::string& text) const override { replacer_.apply(text); }

 private:
  PatternReplacer replacer_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& p : parts_) p->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

PatternReplacer::PatternReplacer(const json& pattern, std::string content, const JsonPlace& at)
    : content_(std::move(content)) {
  need_object(pattern, at);
  if (pattern.contains("String")) {
    literal_ = need_string(pattern, "String", at);
    if (literal_.empty()) fail_at(at.field("String"), "empty pattern");
  } else if (pattern.contains("Regex")) {
    regex_ = std::make_unique<Regex>(need_string(pattern, "Regex", at), at.str());
  } else {
    fail_at(at, "expected {\"String\": ...} or {\"Regex\": ...}");
  }
}

PatternReplacer::~PatternReplacer() = default;

void PatternReplacer::apply(std::string& text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  if (regex_) {
    regex_->find_all(text, matches);
  } else {
    for (size_t p = text.find(literal_); p != std::string::npos; p = text.find(literal_, p + literal_.size()))
      matches.emplace_back(p, p + literal_.size());
  }
  if (matches.empty()) return;
  std::string out;
  out.reserve(text.size() + matches.size() * content_.size());
  size_t last = 0;
  for (auto [b, e] : matches) {
    out.append(text, last, b - last);
    out += content_;
    last = e;
  }
  out.append(text, last, std::string::npos);
  text.swap(out);
}

std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonPlace& at) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  if (type == "NFC")
    return std::make_unique<UnicodeNormalizer>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE), true);
  if (type == "NFD")
    return std::make_unique<UnicodeNormalizer>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE), true);
  if (type == "NFKC")
    return std::make_unique<UnicodeNormalizer>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT), true);
  if (type == "NFKD")
    return std::make_unique<UnicodeNormalizer>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), true);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(get_bool(j, "strip_left", at, true),
                                             get_bool(j, "strip_right", at, true));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(need_string(j, "prepend", at));
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(j, at);
  if (type == "Sequence") {
    JsonPlace list_at = at.field("normalizers");
    const json& list = need_array(need(j, "normalizers", at), list_at);
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.size(); ++i)
      if (auto n = make_normalizer(list[i], list_at.index(i))) parts.push_back(std::move(n));
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  fail_at(at, "normalizer type \"" + type + "\" is not supported");
}

}  // namespace r1::tok
