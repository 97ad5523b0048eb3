#include "bench/gsm8k.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace r1::bench {

namespace {

bool digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// The last number in `s`, normalised: "-1,234.50" → "-1234.50". A comma counts as a thousands separator only
// when exactly three digits follow it, so "3,4" reads as two numbers, not 34.
std::optional<std::string> last_number(std::string_view s) {
  std::optional<std::string> last;
  size_t i = 0;
  while (i < s.size()) {
    if (!digit(s[i])) {
      ++i;
      continue;
    }
    std::string n;
    if (i > 0 && s[i - 1] == '-') n.push_back('-');
    while (i < s.size()) {
      if (digit(s[i])) {
        n.push_back(s[i++]);
      } else if (s[i] == ',' && i + 3 < s.size() && digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3]) &&
                 (i + 4 >= s.size() || !digit(s[i + 4]))) {
        ++i;  // thousands separator
      } else if (s[i] == '.' && i + 1 < s.size() && digit(s[i + 1])) {
        n.push_back(s[i++]);
      } else {
        break;
      }
    }
    last = n;
  }
  return last;
}

// Content of the last \boxed{...}, braces matched; nullopt if there is none or it is unterminated.
std::optional<std::string_view> last_boxed(std::string_view s) {
  size_t at = s.rfind("\\boxed{");
  if (at == std::string_view::npos) return std::nullopt;
  size_t begin = at + 7, depth = 1;
  for (size_t i = begin; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return s.substr(begin, i - begin);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> gsm8k_reference_answer(std::string_view answer) {
  size_t at = answer.rfind("####");
  if (at == std::string_view::npos) return std::nullopt;
  return last_number(answer.substr(at + 4));
}

std::optional<std::string> extract_final_number(std::string_view response) {
  if (auto boxed = last_boxed(response)) {
    if (auto n = last_number(*boxed)) return n;
  }
  return last_number(response);
}

bool same_number(const std::string& a, const std::string& b) {
  char *ea = nullptr, *eb = nullptr;
  double x = std::strtod(a.c_str(), &ea), y = std::strtod(b.c_str(), &eb);
  if (*ea != '\0' || *eb != '\0' || a.empty() || b.empty()) return a == b;
  return std::fabs(x - y) <= 1e-9 * std::max(1.0, std::max(std::fabs(x), std::fabs(y)));
}

}  // namespace r1::bench
