// EngineConfig validation, byte sizes as users write them, and the free-memory default for the KV budget.
#include <cctype>
#include <cmath>
#include <fstream>
#include <string>

#include "core/error.h"
#include "engine/engine.h"

namespace r1 {

void EngineConfig::validate() const {
  if (block_size == 0 || block_size > 1024) fail("block size must be in [1, 1024], got {}", block_size);
  if (max_num_seqs == 0) fail("--max-num-seqs must be at least 1");
  if (max_batch_tokens == 0) fail("--max-batch-tokens must be at least 1");
}

const char* to_string(FinishReason r) {
  switch (r) {
    case FinishReason::stop:
      return "stop";
    case FinishReason::length:
      return "length";
    case FinishReason::abort:
      return "abort";
    case FinishReason::error:
      return "error";
  }
  return "error";
}

size_t parse_byte_size(const std::string& text, const std::string& what) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number = text.substr(0, i), unit;
  for (size_t j = i; j < text.size(); ++j)
    if (!std::isspace(static_cast<unsigned char>(text[j])))
      unit += char(std::tolower(static_cast<unsigned char>(text[j])));
  double value = 0;
  try {
    size_t used = 0;
    value = number.empty() ? -1 : std::stod(number, &used);
    if (used != number.size()) value = -1;
  } catch (const std::exception&) {
    value = -1;
  }
  double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "k" || unit == "kb")
    scale = 1e3;
  else if (unit == "m" || unit == "mb")
    scale = 1e6;
  else if (unit == "g" || unit == "gb")
    scale = 1e9;
  else if (unit == "t" || unit == "tb")
    scale = 1e12;
  else if (unit == "kib")
    scale = 1024.0;
  else if (unit == "mib")
    scale = 1024.0 * 1024;
  else if (unit == "gib")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "tib")
    scale = 1024.0 * 1024 * 1024 * 1024;
  if (!(value >= 0) || scale == 0)
    fail("{}: cannot read '{}' as a size (examples: 2GiB, 512MiB, 1.5GB, 1073741824)", what, text);
  double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes >= 1.8e19) fail("{}: '{}' is too large", what, text);
  return size_t(bytes);
}

size_t available_memory_fraction(double fraction) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  while (in >> key) {
    if (key == "MemAvailable:") {
      in >> kib;
      break;
    }
    in.ignore(1 << 10, '\n');
  }
  if (kib == 0)
    fail("cannot read MemAvailable from /proc/meminfo; give the KV cache size (--kv-cache-memory)");
  return size_t(double(kib) * 1024.0 * fraction);
}

}  // namespace r1
