#include "bench/reply_excerpt.h"

namespace r1::bench {

std::string reply_excerpt(const std::string& body, size_t max_bytes) {
  if (body.empty()) return "(empty body)";
  size_t n = std::min(body.size(), max_bytes);
  while (n < body.size() && n > 0 && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;
  std::string out = body.substr(0, n);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return n < body.size() ? "'" + out + "…'" : "'" + out + "'";
}

}  // namespace r1::bench
