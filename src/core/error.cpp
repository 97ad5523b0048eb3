#include "core/error.h"

namespace r1 {

void check_failed(const char* cond, const char* file, int line, const std::string& msg) {
  throw std::logic_error(fmt::format("internal error: {} ({}:{}): {}", msg, file, line, cond));
}

}  // namespace r1
