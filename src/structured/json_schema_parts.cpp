#include "structured/json_schema_parts.h"

#include <cmath>
#include <limits>
#include <tuple>

#include "core/error.h"
#include "structured/regex.h"
#include "tokenizer/utf8.h"

namespace r1::structured {

namespace {

std::string where(const std::string& path) {
  return path.empty() ? "/" : path;
}

using json = nlohmann::ordered_json;

// Digits of an integer part, fraction and exponent are bounded (16, 16, 3): unbounded runs let a model that
// never stops emitting digits run to max_tokens. Every value generated is still a valid JSON number.
ExprPtr digits(uint32_t min, uint32_t max) {
  return repeat(chars({{'0', '9'}}), min, max, false);
}

std::string pow10_minus1(size_t n) {
  return std::string(n, '9');
}

// Decimal strings of equal length lo <= hi.
ExprPtr same_length(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return empty();
  if (lo.size() == 1) return chars({{uint32_t(lo[0]), uint32_t(hi[0])}});
  if (lo[0] == hi[0]) return seq({literal(lo.substr(0, 1)), same_length(lo.substr(1), hi.substr(1))});
  const size_t rest = lo.size() - 1;
  std::vector<ExprPtr> alts;
  alts.push_back(seq({literal(lo.substr(0, 1)), same_length(lo.substr(1), pow10_minus1(rest))}));
  if (lo[0] + 1 <= hi[0] - 1)
    alts.push_back(
        seq({chars({{uint32_t(lo[0] + 1), uint32_t(hi[0] - 1)}}), digits(uint32_t(rest), uint32_t(rest))}));
  alts.push_back(seq({literal(hi.substr(0, 1)), same_length(std::string(rest, '0'), hi.substr(1))}));
  return alt(std::move(alts));
}

// Non-negative integers in [lo, hi]; hi empty = unbounded.
ExprPtr nonneg_range(uint64_t lo, std::optional<uint64_t> hi) {
  const std::string a = std::to_string(lo);
  std::vector<ExprPtr> alts;
  const size_t max_len = hi ? std::to_string(*hi).size() : a.size();
  for (size_t len = a.size(); len <= max_len; ++len) {
    const std::string from = len == a.size() ? a : "1" + std::string(len - 1, '0');
    const std::string to = hi && len == max_len ? std::to_string(*hi) : pow10_minus1(len);
    if (len == 1 && from == "0")
      alts.push_back(chars({{'0', uint32_t(to[0])}}));
    else
      alts.push_back(same_length(from, to));
  }
  if (!hi && a.size() < 16) alts.push_back(seq({chars({{'1', '9'}}), digits(uint32_t(a.size()), 15)}));
  return alt(std::move(alts));
}

}  // namespace

ExprPtr integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  std::vector<ExprPtr> alts;
  // Negative part: "-" then magnitudes in [max(1, -hi), -lo].
  if (!lo || *lo < 0) {
    const uint64_t from = hi && *hi < 0 ? uint64_t(-(*hi + 1)) + 1 : 1;
    std::optional<uint64_t> to;
    if (lo) to = uint64_t(-(*lo + 1)) + 1;
    alts.push_back(seq({literal("-"), nonneg_range(from, to)}));
  }
  if (!hi || *hi >= 0) {
    const uint64_t from = lo && *lo > 0 ? uint64_t(*lo) : 0;
    std::optional<uint64_t> to;
    if (hi) to = uint64_t(*hi);
    alts.push_back(nonneg_range(from, to));
  }
  return alt(std::move(alts));
}

ExprPtr JsonParts::ws() const {
  if (opts_.max_whitespace == 0) return empty();
  return repeat(chars({{' ', ' '}, {'\t', '\t'}, {'\n', '\n'}}), 0, opts_.max_whitespace, false);
}

ExprPtr JsonParts::string_char() const {
  return alt(
      {chars({{'"', '"'}, {'\\', '\\'}, {0, 0x1F}}, true),
       seq({literal("\\"),
            alt({chars({{'"', '"'},
                        {'\\', '\\'},
                        {'/', '/'},
                        {'b', 'b'},
                        {'f', 'f'},
                        {'n', 'n'},
                        {'r', 'r'},
                        {'t', 't'}}),
                 seq({literal("u"), repeat(chars({{'0', '9'}, {'a', 'f'}, {'A', 'F'}}), 4, 4, false)})})})});
}

uint32_t JsonParts::string_rule() {
  if (!string_) {
    string_ = g_.fresh_rule("string");
    g_.define(*string_, seq({literal("\""), star(string_char()), literal("\"")}));
  }
  return *string_;
}

uint32_t JsonParts::any_value() {
  if (any_) return *any_;
  any_ = g_.fresh_rule("json-value");
  const uint32_t obj = g_.fresh_rule("json-object"), arr = g_.fresh_rule("json-array");
  const ExprPtr member = seq({ref(string_rule()), ws(), literal(":"), ws(), ref(*any_), ws()});
  g_.define(obj, seq({literal("{"), ws(), opt(seq({member, star(seq({literal(","), ws(), member}))})),
                      literal("}")}));
  const ExprPtr item = seq({ref(*any_), ws()});
  g_.define(arr,
            seq({literal("["), ws(), opt(seq({item, star(seq({literal(","), ws(), item}))})), literal("]")}));
  json none = json::object();
  g_.define(*any_, alt({ref(obj), ref(arr), ref(string_rule()), number(none, ""), literal("true"),
                        literal("false"), literal("null")}));
  return *any_;
}

uint64_t JsonParts::count(const json& s, const char* key, const std::string& path, uint64_t def) const {
  if (!s.contains(key)) return def;
  const json& v = s[key];
  if (!v.is_number_unsigned() &&
      !(v.is_number_float() && v.get<double>() >= 0 && std::floor(v.get<double>()) == v.get<double>()))
    fail("JSON schema at {}/{}: must be a non-negative integer", path, key);
  const uint64_t n = v.get<uint64_t>();
  if (n > 100000) fail("JSON schema at {}/{}: {} is over the supported 100000", path, key, n);
  return n;
}

// RFC 3339 full-date with the days of each month (29 February only in leap years), as ajv-formats checks it.
const char* const kDate =
    R"(\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-8]))|)"
    R"((\d\d(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)";
// full-time with a required offset (seconds 00-59: a leap second is valid only at one instant).
const char* const kTime = R"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))";

ExprPtr JsonParts::string(const json& s, const std::string& path) {
  const bool has_len = s.contains("minLength") || s.contains("maxLength");
  if (s.contains("format")) {
    if (has_len || s.contains("pattern"))
      fail("JSON schema at {}: keyword 'format' together with a length or 'pattern' is not supported",
           where(path));
    const std::string f = s["format"].is_string() ? s["format"].get<std::string>() : "";
    static const std::map<std::string, std::string> formats = {
        {"date", kDate},
        {"time", kTime},
        {"date-time", std::string("(") + kDate + ")T" + kTime},
        // http(s) URLs of plain host names and paths: a subset of what ajv-formats' "uri" accepts.
        {"uri",
         R"(https?://[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?){0,2}(/[a-zA-Z0-9._~-]*)*)"},
        {"uuid", R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"},
        {"ipv4", R"(((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))"},
        {"email",
         R"([a-zA-Z0-9_+-]+(\.[a-zA-Z0-9_+-]+)*@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+)"},
        // ajv-formats also caps a hostname at 253 characters: at most three labels of 63 keep under it.
        {"hostname",
         R"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?){0,2})"},
    };
    auto it = formats.find(f);
    if (it == formats.end()) fail("JSON schema at {}/format: format '{}' is not supported", path, f);
    return seq({literal("\""), parse_regex(it->second).expr, literal("\"")});
  }
  if (s.contains("pattern")) {
    if (has_len)
      fail("JSON schema at {}: keyword 'pattern' together with minLength/maxLength is not supported",
           where(path));
    if (!s["pattern"].is_string()) fail("JSON schema at {}/pattern: must be a string", path);
    const ParsedRegex re = parse_regex(s["pattern"].get<std::string>());
    // JSON Schema patterns search (unanchored): what is not anchored may have any text around it.
    std::vector<ExprPtr> parts{literal("\"")};
    if (!re.anchored_start) parts.push_back(star(string_char()));
    parts.push_back(json_string_escaped(re.expr));
    if (!re.anchored_end) parts.push_back(star(string_char()));
    parts.push_back(literal("\""));
    return seq(std::move(parts));
  }
  if (has_len) {
    const uint64_t min = count(s, "minLength", path, 0);
    const std::optional<uint64_t> max =
        s.contains("maxLength") ? std::optional<uint64_t>(count(s, "maxLength", path, 0)) : std::nullopt;
    if (max && *max < min) fail("JSON schema at {}: maxLength is below minLength", where(path));
    return seq({literal("\""), repeat(string_char(), uint32_t(min), uint32_t(max.value_or(0)), !max),
                literal("\"")});
  }
  return ref(string_rule());
}

namespace {
struct Bound {
  double value;
  bool exclusive;
};

// The lower (or upper) bound a schema sets: `minimum`/`exclusiveMinimum` as numbers (draft 6 on), the tighter
// of the two when both are given, or draft 4's boolean `exclusiveMinimum` that makes `minimum` exclusive.
std::optional<Bound> bound_of(const json& s, bool lower, const std::string& path) {
  const char* inc = lower ? "minimum" : "maximum";
  const char* exc = lower ? "exclusiveMinimum" : "exclusiveMaximum";
  auto number = [&](const char* key) {
    const json& v = s[key];
    if (!v.is_number()) fail("JSON schema at {}/{}: must be a number", path, key);
    const double d = v.get<double>();
    if (std::fabs(d) > 9e15)
      fail("JSON schema at {}/{}: {} is outside the supported range (|x| <= 9e15)", path, key, d);
    return d;
  };
  std::optional<Bound> b;
  if (s.contains(inc)) b = Bound{number(inc), false};
  if (s.contains(exc)) {
    if (s[exc].is_boolean()) {
      if (!b && s[exc].get<bool>()) fail("JSON schema at {}/{}: true needs '{}'", path, exc, inc);
      if (b) b->exclusive = s[exc].get<bool>();
    } else {
      const Bound e{number(exc), true};
      if (!b || (lower ? e.value >= b->value : e.value <= b->value)) b = e;
    }
  }
  return b;
}

// As an integer: inclusive bounds round inward, exclusive ones step past.
std::optional<int64_t> int_bound(const std::optional<Bound>& b, bool lower) {
  if (!b) return std::nullopt;
  if (lower) return int64_t(b->exclusive ? std::floor(b->value) + 1 : std::ceil(b->value));
  return int64_t(b->exclusive ? std::ceil(b->value) - 1 : std::floor(b->value));
}
}  // namespace

ExprPtr JsonParts::integer(const json& s, const std::string& path) {
  const auto lo = int_bound(bound_of(s, true, path), true);
  const auto hi = int_bound(bound_of(s, false, path), false);
  if (lo && hi && *lo > *hi)
    fail("JSON schema at {}: no integer lies between the minimum and the maximum", where(path));
  if (!lo && !hi)
    return seq({opt(literal("-")), alt({literal("0"), seq({chars({{'1', '9'}}), digits(0, 15)})})});
  return integer_range(lo, hi);
}

namespace {
// Non-negative numbers x with a <= x (a < x when `ax`) and, with `hi`, x <= b (x < b when `bx`), written
// without exponent. a, b integers >= 0.
void nonneg_number_range(int64_t a, bool ax, std::optional<std::pair<int64_t, bool>> hi,
                         std::vector<ExprPtr>& alts) {
  const ExprPtr any_frac = opt(seq({literal("."), digits(1, 16)}));
  // Zeros, then a non-zero digit, then any: deterministic (digits(0,15) [1-9] digits(0,15) is not, and its
  // automaton explodes).
  const ExprPtr nonzero_frac =
      seq({literal("."), repeat(literal("0"), 0, 15, false), chars({{'1', '9'}}), digits(0, 15)});
  const ExprPtr zero_frac = opt(seq({literal("."), repeat(literal("0"), 1, 16, false)}));
  // Integer parts whose whole [i, i + 1) lies in the range.
  const int64_t from = ax ? a + 1 : a;
  const std::optional<int64_t> to = hi ? std::optional<int64_t>(hi->first - 1) : std::nullopt;
  if (!to || from <= *to) alts.push_back(seq({integer_range(from, to), any_frac}));
  // (a, a + 1) when a itself is excluded.
  if (ax && (!hi || a < hi->first)) alts.push_back(seq({literal(std::to_string(a)), nonzero_frac}));
  // b itself.
  if (hi && !hi->second && (hi->first > a || (hi->first == a && !ax)))
    alts.push_back(seq({literal(std::to_string(hi->first)), zero_frac}));
}
}  // namespace

ExprPtr JsonParts::number(const json& s, const std::string& path) {
  // Exponents of at most two digits: 1e-999 would parse as 0 and 1e999 as Infinity.
  const ExprPtr frac = opt(seq({literal("."), digits(1, 16)}));
  const ExprPtr exp =
      opt(seq({chars({{'e', 'e'}, {'E', 'E'}}), opt(chars({{'+', '+'}, {'-', '-'}})), digits(1, 2)}));
  const ExprPtr int_part = alt({literal("0"), seq({chars({{'1', '9'}}), digits(0, 15)})});
  const auto lo = bound_of(s, true, path), hi = bound_of(s, false, path);
  if (!lo && !hi) return seq({opt(literal("-")), int_part, frac, exp});
  // Bounded numbers: integer bounds only, written without exponent, as the non-negative part and the
  // negative part mirrored ("-" then the magnitudes).
  for (const auto& [b, inc, exc] :
       {std::tuple{lo, "minimum", "exclusiveMinimum"}, std::tuple{hi, "maximum", "exclusiveMaximum"}})
    if (b && b->value != std::floor(b->value))
      fail("JSON schema at {}/{}: a non-integer bound on a number is not supported ({})", path,
           s.contains(exc) && s[exc].is_number() ? exc : inc, b->value);
  const auto L = lo ? std::optional<int64_t>(int64_t(lo->value)) : std::nullopt;
  const auto H = hi ? std::optional<int64_t>(int64_t(hi->value)) : std::nullopt;
  std::vector<ExprPtr> alts;
  if (!H || *H > 0 || (*H == 0 && !hi->exclusive)) {
    const bool lo_positive = L && *L >= 0;
    std::optional<std::pair<int64_t, bool>> top;
    if (H) top = std::pair{*H, hi->exclusive};
    nonneg_number_range(lo_positive ? *L : 0, lo_positive && lo->exclusive, top, alts);
  }
  if (!L || *L < 0) {
    // x < 0 as "-" m: m > -H (or m > 0), m < -L.
    const bool hi_negative = H && *H < 0;
    std::optional<std::pair<int64_t, bool>> top;
    if (L) top = std::pair{-*L, lo->exclusive};
    std::vector<ExprPtr> neg;
    nonneg_number_range(hi_negative ? -*H : 0, hi_negative ? hi->exclusive : true, top, neg);
    if (!neg.empty()) alts.push_back(seq({literal("-"), alt(std::move(neg))}));
  }
  if (alts.empty())
    fail("JSON schema at {}: no number lies between the minimum and the maximum", where(path));
  return alt(std::move(alts));
}

ExprPtr JsonParts::key_not_in(const std::vector<std::string>& names) {
  // Keys written with unescaped characters only, so that no spelling of a declared name slips through.
  const ExprPtr safe_char = chars({{'"', '"'}, {'\\', '\\'}, {0, 0x1F}}, true);
  struct Node {
    std::map<uint32_t, size_t> kids;
    bool terminal = false;
  };
  std::vector<Node> trie(1);
  for (const std::string& n : names) {
    size_t at = 0;
    for (size_t i = 0; i < n.size();) {
      const tok::Utf8Step st = tok::utf8_step(n, i);
      i += st.len;
      const uint32_t cp = st.cp < 0 ? 0xFFFD : uint32_t(st.cp);
      auto it = trie[at].kids.find(cp);
      if (it == trie[at].kids.end()) {
        trie.push_back({});
        it = trie[at].kids.emplace(cp, trie.size() - 1).first;
      }
      at = it->second;
    }
    trie[at].terminal = true;
  }
  auto build = [&](auto&& self, size_t at) -> ExprPtr {
    std::vector<ExprPtr> alts;
    if (!trie[at].terminal) alts.push_back(empty());
    std::vector<CodeRange> taken{{'"', '"'}, {'\\', '\\'}, {0, 0x1F}};
    for (auto& [cp, kid] : trie[at].kids) {
      taken.push_back({cp, cp});
      std::string c;
      tok::append_utf8(c, cp);
      alts.push_back(seq({literal(c), self(self, kid)}));
    }
    alts.push_back(seq({chars(taken, true), star(safe_char)}));
    return alt(std::move(alts));
  };
  return seq({literal("\""), build(build, 0), literal("\"")});
}

ExprPtr JsonParts::object(const std::vector<ObjectProperty>& props, std::optional<uint32_t> additional,
                          const std::string& path) {
  auto kv = [&](const ObjectProperty& p) {
    return seq({literal(json(p.name).dump()), ws(), literal(":"), ws(), ref(p.value_rule)});
  };
  ExprPtr extra;  // one additional member
  if (additional) {
    std::vector<std::string> names;
    for (const ObjectProperty& p : props) names.push_back(p.name);
    extra = seq({key_not_in(names), ws(), literal(":"), ws(), ref(*additional)});
  }
  // first[i]: members from property i on, none written yet; rest[i]: the same after at least one (so each
  // starts with a comma). Optional properties may be skipped; order is the schema's. No rule ends in
  // whitespace: a token running from trailing whitespace into what follows could only be judged with the
  // caller's stack (a run-time check for every token that starts with a space).
  const size_t n = props.size();
  std::vector<uint32_t> first(n + 1), rest(n + 1);
  const std::string base = path.empty() ? "object" : path.substr(1);
  for (size_t i = 0; i <= n; ++i) {
    first[i] = g_.fresh_rule(base + "-first");
    rest[i] = g_.fresh_rule(base + "-rest");
  }
  const ExprPtr more_extra = extra ? star(seq({ws(), literal(","), ws(), extra})) : empty();
  g_.define(rest[n], more_extra);
  g_.define(first[n], extra ? opt(seq({extra, more_extra})) : empty());
  for (size_t i = n; i-- > 0;) {
    std::vector<ExprPtr> f{seq({kv(props[i]), ref(rest[i + 1])})};
    std::vector<ExprPtr> r{seq({ws(), literal(","), ws(), kv(props[i]), ref(rest[i + 1])})};
    if (!props[i].required) f.push_back(ref(first[i + 1])), r.push_back(ref(rest[i + 1]));
    g_.define(first[i], alt(std::move(f)));
    g_.define(rest[i], alt(std::move(r)));
  }
  return seq({literal("{"), ws(), ref(first[0]), ws(), literal("}")});
}

ExprPtr JsonParts::array(const std::vector<uint32_t>& prefix, std::optional<uint32_t> items, uint64_t min,
                         std::optional<uint64_t> max, const std::string& path) {
  const size_t k = prefix.size();
  if (!items && min > k)
    fail("JSON schema at {}: minItems {} is more than the {} items allowed", path.empty() ? "/" : path, min,
         k);
  // The tail after the prefix: further `items` values, each after a comma (or first when there is no prefix).
  const uint64_t tail_min = min > k ? min - k : 0;
  std::optional<uint64_t> tail_max;
  if (max) tail_max = *max > k ? *max - k : 0;
  ExprPtr tail = empty();
  if (items && (!tail_max || *tail_max > 0)) {
    const ExprPtr item = seq({ref(*items), ws()});
    const ExprPtr next = seq({literal(","), ws(), item});
    if (k > 0) {
      tail = repeat(next, uint32_t(tail_min), uint32_t(tail_max.value_or(0)), !tail_max);
    } else {
      // No prefix: the first item has no comma.
      const ExprPtr more = repeat(next, uint32_t(tail_min > 0 ? tail_min - 1 : 0),
                                  uint32_t(tail_max ? *tail_max - 1 : 0), !tail_max);
      tail = tail_min > 0 ? seq({item, more}) : opt(seq({item, more}));
    }
  }
  // Prefix items nest: item i is optional when i >= minItems, and what follows comes only after it.
  ExprPtr body = tail;
  const size_t limit = max ? std::min<uint64_t>(k, *max) : k;
  for (size_t i = limit; i-- > 0;) {
    ExprPtr part = seq({i ? literal(",") : empty(), i ? ws() : empty(), ref(prefix[i]), ws(),
                        i + 1 == limit && limit < k ? empty() : body});
    body = i >= min ? opt(part) : part;
  }
  return seq({literal("["), ws(), body, literal("]")});
}

}  // namespace r1::structured
