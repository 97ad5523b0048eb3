#pragma once
// Prompt datasets read from files. Every file is untrusted: a malformed line or entry fails with the file
// name and the line (JSON lines, text) or entry index and line (a JSON array), never a crash.
#include <optional>
#include <string>
#include <vector>

namespace r1::bench {

enum class DatasetFormat {
  kAuto,      // decided from the extension and the first record (detect_format)
  kGsm8k,     // JSON lines {"question": ..., "answer": "... #### 42"}
  kShareGpt,  // a JSON array [{"conversations": [{"from": "human", "value": ...}, ...]}]; first human turn
  kMtBench,   // JSON lines {"turns": ["first", "second"]}; first turn
  kText,      // one prompt per non-empty line
};

DatasetFormat parse_dataset_format(const std::string& name);  // auto|gsm8k|sharegpt|mt-bench|text
const char* format_name(DatasetFormat f);

struct Prompt {
  std::string text;
  std::optional<std::string> reference_answer;  // GSM8K: the number after "####", commas removed
  std::string source;                           // "file:line" for messages about this prompt
};

// Sniffs the format: .json → ShareGPT; .jsonl → by the first record's keys; anything else → text.
DatasetFormat detect_format(const std::string& path);

// Reads the first `limit` prompts (0 = all) of `path`. Fails (r1::Error) on an unreadable file, a malformed
// record, or a file with no prompts.
std::vector<Prompt> load_dataset(const std::string& path, DatasetFormat format, size_t limit);

}  // namespace r1::bench
