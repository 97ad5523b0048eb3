#pragma once
// Hand-written splitters for the pre-tokenizer regexes of GPT-2, Llama 3 and Qwen2 (the only ones the R1
// distills and their ecosystem use), several times faster than the general PCRE2 path. tests/tokenizer proves
// each equal to PCRE2 on the shared vectors and on large real text.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::tok {

using FastSplitter = void (*)(std::string_view text, std::vector<std::pair<size_t, size_t>>& out);

// The splitter for exactly this pattern string, or nullptr when there is none (use PCRE2).
FastSplitter find_fast_splitter(const std::string& pattern);

}  // namespace r1::tok
