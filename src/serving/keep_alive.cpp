#include "serving/keep_alive.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "core/error.h"

namespace r1::serving {

std::optional<Millis> keep_alive_from_seconds(double seconds) {
  if (seconds < 0) return std::nullopt;
  return Millis(int64_t(std::llround(seconds * 1000)));
}

std::optional<Millis> parse_keep_alive(const std::string& text, const std::string& what) {
  auto bad = [&] {
    fail(
        "{} '{}': expected a duration such as 300 (seconds), 90s, 5m, 1h30m or 250ms; 0 = unload as soon as "
        "idle; -1 or never = keep loaded",
        what, text);
  };
  if (text == "never" || text == "-1") return std::nullopt;
  if (text.empty()) bad();
  // A bare number is seconds.
  try {
    size_t used = 0;
    double s = std::stod(text, &used);
    if (used == text.size()) {
      if (!std::isfinite(s)) bad();
      return keep_alive_from_seconds(s);
    }
  } catch (const std::exception&) {
  }
  // Go's time.ParseDuration subset: [-]{number unit}+, units h, m, s, ms.
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') negative = true, i = 1;
  double total_ms = 0;
  if (i == text.size()) bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) bad();
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(text.substr(start, i - start), &used);
    } catch (const std::exception&) {
      bad();
    }
    if (used != i - start) bad();
    size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(u, i - u);
    if (unit == "h")
      total_ms += v * 3600e3;
    else if (unit == "m")
      total_ms += v * 60e3;
    else if (unit == "s")
      total_ms += v * 1e3;
    else if (unit == "ms")
      total_ms += v;
    else
      bad();
  }
  if (negative) return std::nullopt;
  return Millis(int64_t(std::llround(total_ms)));
}

std::string keep_alive_name(const std::optional<Millis>& keep) {
  if (!keep) return "never";
  int64_t ms = keep->count();
  if (ms % 1000) return fmt::format("{}ms", ms);
  int64_t s = ms / 1000;
  if (s && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s && s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

}  // namespace r1::serving
