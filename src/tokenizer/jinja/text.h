#pragma once
// Python-compatible string operations for the template interpreter. Python's str is a sequence of code
// points, so lengths, indices and slices here count UTF-8 characters (a lead byte plus its continuation
// bytes), never bytes; invalid UTF-8 is handled byte by byte instead of failing, so templates can never crash
// on it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::jinja {

// Byte offsets where each character starts, plus s.size() at the end (so there are length + 1 entries).
std::vector<size_t> char_offsets(std::string_view s);
size_t char_length(std::string_view s);

// Python's str.strip / lstrip / rstrip. Without `chars`, strips Unicode whitespace as str.isspace() sees it.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// Python's str.split(sep=None, maxsplit=-1): no sep splits on whitespace runs and drops empty pieces.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit);
// Python's str.replace(old, new, count=-1), including the empty `old` case (insert between characters).
std::string py_replace(std::string_view s, std::string_view old_s, std::string_view new_s, int64_t count);

// Python's str.upper() / str.lower(): simple (one-to-one) Unicode case mapping, by utf8proc.
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
// Python's str.title() and str.capitalize() (Unicode letters, simple case mapping).
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);

bool is_space_char(std::string_view ch);

}  // namespace r1::jinja
