#include "tokenizer/decoders.h"

#include "tokenizer/normalizers.h"
#include "tokenizer/utf8.h"

namespace r1::tok {

namespace {

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string out;
    for (const std::string& t : tokens) {
      size_t mark = out.size();
      bool all_mapped = true;
      for (size_t i = 0; i < t.size();) {
        Utf8Step st = utf8_step(t, i);
        int b = byte_level_byte(st.cp);
        if (b < 0) {
          all_mapped = false;
          break;
        }
        out += char(b);
        i += st.len;
      }
      // A token with characters outside the alphabet (an added token like "<｜User｜>") is its own bytes.
      if (!all_mapped) out.replace(mark, std::string::npos, t);
    }
    tokens.assign(1, std::move(out));
  }
  bool joins() const override { return true; }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(const json& j, const JsonPlace& at)
      : replacer_(need(j, "pattern", at), need_string(j, "content", at), at.field("pattern")) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (std::string& t : tokens) replacer_.apply(t);
  }

 private:
  PatternReplacer replacer_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (std::string& t : tokens) {
      if (t.size() == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>') {
        int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
        if (hi >= 0 && lo >= 0) t.assign(1, char(hi * 16 + lo));
      }
    }
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string out;
    for (const std::string& t : tokens) out += t;
    tokens.assign(1, std::move(out));
  }
  bool joins() const override { return true; }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(const json& j, const JsonPlace& at, bool after_join)
      : content_(need_string(j, "content", at)),
        start_(get_int(j, "start", at, 0)),
        stop_(get_int(j, "stop", at, 0)),
        after_join_(after_join) {
    if (content_.empty() || utf8_step(content_, 0).len != content_.size())
      fail_at(at.field("content"), "must be exactly one character");
  }
  void decode_chain(std::vector<std::string>& tokens, bool continuation) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string& t = tokens[k];
      // After Fuse the single token is the text so far; its start is the sequence start only when not
      // continuing.
      bool strip_start = !(continuation && after_join_ && k == 0);
      size_t b = 0, e = t.size();
      for (int64_t n = 0; strip_start && n < start_ && t.compare(b, content_.size(), content_) == 0; ++n)
        b += content_.size();
      for (int64_t n = 0; n < stop_ && e >= b + content_.size() &&
                          t.compare(e - content_.size(), content_.size(), content_) == 0;
           ++n)
        e -= content_.size();
      t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  int64_t start_, stop_;
  bool after_join_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(const json& j, const JsonPlace& at) {
    replacement_ = get_string(j, "replacement", at, "\xE2\x96\x81");
    std::string scheme = get_string(j, "prepend_scheme", at, "");
    strip_first_ = scheme.empty() ? get_bool(j, "add_prefix_space", at, true) : scheme != "never";
  }
  void decode_chain(std::vector<std::string>& tokens, bool continuation) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string& t = tokens[k];
      std::string out;
      for (size_t p = 0;;) {
        size_t q = t.find(replacement_, p);
        out.append(t, p, q == std::string::npos ? std::string::npos : q - p);
        if (q == std::string::npos) break;
        out += ' ';
        p = q + replacement_.size();
      }
      if (k == 0 && !continuation && strip_first_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
      t.swap(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_ = true;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens, bool continuation) const override {
    for (const auto& p : parts_) p->decode_chain(tokens, continuation);
  }
  bool joins() const override {
    for (const auto& p : parts_)
      if (p->joins()) return true;
    return false;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

std::unique_ptr<Decoder> make_decoder_in(const json& j, const JsonPlace& at, bool after_join) {
  std::string type = type_of(j, at);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(j, at);
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return std::make_unique<StripDecoder>(j, at, after_join);
  if (type == "Metaspace") return std::make_unique<MetaspaceDecoder>(j, at);
  if (type == "Sequence") {
    JsonPlace list_at = at.field("decoders");
    const json& list = need_array(need(j, "decoders", at), list_at);
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_null()) continue;
      parts.push_back(make_decoder_in(list[i], list_at.index(i), after_join));
      after_join = after_join || parts.back()->joins();
    }
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  fail_at(at, "decoder type \"" + type + "\" is not supported");
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& j, const JsonPlace& at) {
  if (j.is_null()) return nullptr;
  return make_decoder_in(j, at, false);
}

}  // namespace r1::tok
