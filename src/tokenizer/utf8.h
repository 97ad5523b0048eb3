#pragma once
// UTF-8 helpers for the tokenizer: strict decoding (the same maximal-subpart rule Rust's from_utf8_lossy
// uses, so replacement characters land where Hugging Face puts them), GPT-2's byte <-> character alphabet,
// and the whitespace/word-character tests added-token matching needs.
#include <cstdint>
#include <string>
#include <string_view>

namespace r1::tok {

struct Utf8Step {
  int32_t cp;      // the code point, or -1 when the bytes at this position are not valid UTF-8
  uint32_t len;    // bytes consumed: the character, or the maximal invalid subpart (at least 1)
  bool truncated;  // invalid only because the string ends mid-character (more bytes could complete it)
};
Utf8Step utf8_step(std::string_view s, size_t i);

void append_utf8(std::string& out, uint32_t cp);
// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t find_invalid_utf8(std::string_view s);
// Every invalid maximal subpart replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);
// Length of the longest prefix that does not end inside a character that later bytes could still complete.
size_t complete_utf8_prefix(std::string_view s);

// GPT-2's ByteLevel alphabet: every byte maps to one printable character (bytes 33-126, 161-172, 174-255 map
// to themselves, the rest to U+0100 onwards in order).
const std::string& byte_level_char(uint8_t b);
// The byte a ByteLevel character stands for, or -1 when the code point is not in the alphabet.
int byte_level_byte(int32_t cp);

// Rust's char::is_whitespace (Unicode White_Space), which Hugging Face uses for lstrip/rstrip.
bool is_unicode_whitespace(int32_t cp);
// Alphanumeric or '_' (Hugging Face's single_word boundary test).
bool is_word_char(int32_t cp);

}  // namespace r1::tok
