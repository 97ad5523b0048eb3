#pragma once
// GSM8K answer checking, the benchmark's sanity column: is the endpoint still computing the right thing?
// Numbers are normalised before comparing: thousands separators ("1,234") and a leading '+' removed, and
// the values compared numerically, so "18", "18.0" and "$18" all match a reference of 18.
#include <optional>
#include <string>
#include <string_view>

namespace r1::bench {

// The number after the last "####" in a GSM8K reference answer ("... #### 1,234" → "1234"); nullopt if none.
std::optional<std::string> gsm8k_reference_answer(std::string_view answer);

// The model's final answer: the last number inside the last \boxed{...} when there is one, otherwise the
// last number in the text. nullopt when the text holds no number.
std::optional<std::string> extract_final_number(std::string_view response);

// Numeric equality of two normalised numbers (relative tolerance 1e-9, for "18" vs "18.000").
bool same_number(const std::string& a, const std::string& b);

}  // namespace r1::bench
