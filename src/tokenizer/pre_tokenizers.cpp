#include "tokenizer/pre_tokenizers.h"

#include "tokenizer/regex_split.h"
#include "tokenizer/utf8.h"

namespace r1::tok {

namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

// What happens to the matched delimiters (Hugging Face's SplitDelimiterBehavior).
enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const std::string& s, const JsonPlace& at) {
  if (s == "Isolated") return Behavior::kIsolated;
  if (s == "Removed") return Behavior::kRemoved;
  if (s == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::kMergedWithNext;
  if (s == "Contiguous") return Behavior::kContiguous;
  fail_at(at, "split behavior \"" + s + "\" is not supported");
}

// Cuts `p` at the delimiter spans `matches` (sorted, non-overlapping) and appends the parts to `out`.
void split_piece(Piece&& p, const Spans& matches, Behavior behavior, bool invert, std::vector<Piece>& out) {
  if (matches.empty() && !invert) {
    // Nothing matched: the piece is one non-delimiter segment whatever the behavior.
    out.push_back(std::move(p));
    return;
  }
  struct Segment {
    size_t b, e;
    bool delim;
  };
  std::vector<Segment> segs;
  size_t last = 0;
  for (auto [b, e] : matches) {
    if (b > last) segs.push_back({last, b, invert});
    segs.push_back({b, e, !invert});
    last = e;
  }
  if (last < p.text.size()) segs.push_back({last, p.text.size(), invert});

  std::vector<Segment> merged;
  for (size_t i = 0; i < segs.size(); ++i) {
    Segment s = segs[i];
    switch (behavior) {
      case Behavior::kIsolated:
        merged.push_back(s);
        break;
      case Behavior::kRemoved:
        if (!s.delim) merged.push_back(s);
        break;
      case Behavior::kMergedWithPrevious:
        if (s.delim && !merged.empty() && !merged.back().delim)
          merged.back().e = s.e, merged.back().delim = true;
        else
          merged.push_back(s);
        break;
      case Behavior::kMergedWithNext:
        if (!merged.empty() && merged.back().delim && !s.delim && merged.back().e == s.b)
          merged.back().e = s.e, merged.back().delim = false;
        else
          merged.push_back(s);
        break;
      case Behavior::kContiguous:
        if (s.delim && !merged.empty() && merged.back().delim)
          merged.back().e = s.e;
        else
          merged.push_back(s);
        break;
    }
  }
  bool first = true;
  for (const Segment& s : merged) {
    if (s.e <= s.b) continue;
    out.push_back({p.text.substr(s.b, s.e - s.b), p.at_input_start && first && s.b == 0});
    first = false;
  }
}

// Finds delimiters with PCRE2 (JIT-compiled).
using Matcher = Regex;

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(const json& j, const JsonPlace& at) {
    JsonPlace pat_at = at.field("pattern");
    const json& pat = need_object(need(j, "pattern", at), pat_at);
    if (pat.contains("Regex")) {
      matcher_ = std::make_unique<Matcher>(need_string(pat, "Regex", pat_at), pat_at.str());
    } else if (pat.contains("String")) {
      literal_ = need_string(pat, "String", pat_at);
      if (literal_.empty()) fail_at(pat_at, "empty String pattern");
    } else {
      fail_at(pat_at, "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    behavior_ = parse_behavior(need_string(j, "behavior", at), at.field("behavior"));
    invert_ = get_bool(j, "invert", at, false);
  }
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size() * 4);
    Spans matches;
    for (Piece& p : pieces) {
      matches.clear();
      if (matcher_) {
        matcher_->find_all(p.text, matches);
      } else {
        for (size_t i = p.text.find(literal_); i != std::string::npos;
             i = p.text.find(literal_, i + literal_.size()))
          matches.emplace_back(i, i + literal_.size());
      }
      split_piece(std::move(p), matches, behavior_, invert_, out);
    }
    pieces.swap(out);
  }

 private:
  std::unique_ptr<Matcher> matcher_;
  std::string literal_;
  Behavior behavior_ = Behavior::kIsolated;
  bool invert_ = false;
};

// GPT-2's pattern, which ByteLevel applies itself when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(const json& j, const JsonPlace& at)
      : add_prefix_space_(get_bool(j, "add_prefix_space", at, true)) {
    if (get_bool(j, "use_regex", at, true)) matcher_ = std::make_unique<Matcher>(kGpt2Pattern, at.str());
  }
  void apply(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_)
      for (Piece& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
    if (!matcher_) return;
    std::vector<Piece> out;
    Spans matches;
    for (Piece& p : pieces) {
      matches.clear();
      matcher_->find_all(p.text, matches);
      split_piece(std::move(p), matches, Behavior::kIsolated, false, out);
    }
    pieces.swap(out);
  }
  bool byte_level() const override { return true; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Matcher> matcher_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(const json& j, const JsonPlace& at) {
    replacement_ = get_string(j, "replacement", at, "\xE2\x96\x81");
    if (replacement_.empty()) fail_at(at.field("replacement"), "empty replacement");
    std::string scheme = get_string(j, "prepend_scheme", at, "");
    if (scheme.empty()) scheme = get_bool(j, "add_prefix_space", at, true) ? "always" : "never";
    if (scheme != "always" && scheme != "first" && scheme != "never")
      fail_at(at.field("prepend_scheme"), "expected always, first or never, got \"" + scheme + "\"");
    scheme_ = scheme;
    split_ = get_bool(j, "split", at, true);
  }
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (Piece& p : pieces) {
      std::string t;
      t.reserve(p.text.size() + 8);
      for (char c : p.text)
        if (c == ' ')
          t += replacement_;
        else
          t += c;
      bool starts = t.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == "always" || (scheme_ == "first" && p.at_input_start)))
        t.insert(0, replacement_);
      if (!split_) {
        out.push_back({std::move(t), p.at_input_start});
        continue;
      }
      // Split before every replacement character (MergedWithNext).
      size_t start = 0;
      for (size_t i = t.find(replacement_, 1); i != std::string::npos; i = t.find(replacement_, i + 1)) {
        out.push_back({t.substr(start, i - start), p.at_input_start && start == 0});
        start = i;
      }
      if (start < t.size()) out.push_back({t.substr(start), p.at_input_start && start == 0});
    }
    pieces.swap(out);
  }

 private:
  std::string replacement_, scheme_;
  bool split_ = true;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    Spans matches;
    for (Piece& p : pieces) {
      matches.clear();
      for (size_t i = 0; i < p.text.size();) {
        if (p.text[i] < '0' || p.text[i] > '9') {
          ++i;
          continue;
        }
        size_t e = i + 1;
        if (!individual_)
          while (e < p.text.size() && p.text[e] >= '0' && p.text[e] <= '9') ++e;
        matches.emplace_back(i, e);
        i = e;
      }
      split_piece(std::move(p), matches, Behavior::kIsolated, false, out);
    }
    pieces.swap(out);
  }

 private:
  bool individual_;
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    Spans matches;
    for (Piece& p : pieces) {
      matches.clear();
      for (size_t i = 0; i < p.text.size();) {
        Utf8Step st = utf8_step(p.text, i);
        if (is_unicode_whitespace(st.cp)) {
          if (!matches.empty() && matches.back().second == i)
            matches.back().second = i + st.len;
          else
            matches.emplace_back(i, i + st.len);
        }
        i += st.len;
      }
      split_piece(std::move(p), matches, Behavior::kRemoved, false, out);
    }
    pieces.swap(out);
  }
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : parts_(std::move(parts)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->apply(pieces);
  }
  bool byte_level() const override {
    for (const auto& p : parts_)
      if (p->byte_level()) return true;
    return false;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonPlace& at) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  if (type == "Split") return std::make_unique<SplitPreTokenizer>(j, at);
  if (type == "ByteLevel") return std::make_unique<ByteLevelPreTokenizer>(j, at);
  if (type == "Metaspace") return std::make_unique<MetaspacePreTokenizer>(j, at);
  if (type == "Digits")
    return std::make_unique<DigitsPreTokenizer>(get_bool(j, "individual_digits", at, false));
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Sequence") {
    JsonPlace list_at = at.field("pretokenizers");
    const json& list = need_array(need(j, "pretokenizers", at), list_at);
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.size(); ++i)
      if (auto p = make_pre_tokenizer(list[i], list_at.index(i))) parts.push_back(std::move(p));
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  fail_at(at, "pre_tokenizer type \"" + type + "\" is not supported");
}

}  // namespace r1::tok
