#include "cli_util.h"

#include <charconv>

#include "core/error.h"

namespace r1::app {

std::vector<int32_t> parse_id_list(const std::string& s, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i == s.size()) break;
    int32_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc() || v < 0) fail("{}: \"{}\" is not a comma-separated list of token ids", flag, s);
    i = size_t(p - s.data());
    if (i < s.size() && s[i] != ',' && s[i] != ' ')
      fail("{}: \"{}\" is not a comma-separated list of token ids", flag, s);
    ids.push_back(v);
  }
  if (ids.empty()) fail("{}: no token ids given", flag);
  return ids;
}

}  // namespace r1::app
