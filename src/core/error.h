#pragma once
// Errors: one exception type for every failure a user can cause (bad files, bad requests, bad flags) and one
// check macro family for internal invariants. Messages always name the thing that is wrong.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace r1 {

// Thrown for anything caused by input: a model file, a config field, a CLI flag, a request.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] void check_failed(const char* cond, const char* file, int line, const std::string& msg);

}  // namespace r1

// Internal invariant. A failure is a bug in r1serve, reported with the location; input errors use r1::fail.
#define R1_CHECK(cond, ...)                                                            \
  do {                                                                                 \
    if (!(cond)) ::r1::check_failed(#cond, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
  } while (0)
