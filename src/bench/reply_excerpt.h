#pragma once
// A short, one-line, printable excerpt of an untrusted server reply, for error messages.
#include <string>

namespace r1::bench {

// At most `max_bytes` bytes (cut on a UTF-8 boundary), control characters shown as spaces, "…" when cut,
// "(empty body)" for nothing.
std::string reply_excerpt(const std::string& body, size_t max_bytes = 200);

}  // namespace r1::bench
