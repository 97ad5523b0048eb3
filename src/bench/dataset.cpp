#include "bench/dataset.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/gsm8k.h"
#include "core/error.h"

namespace r1::bench {

namespace {

using json = nlohmann::json;

std::string read_whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("dataset {}: cannot open the file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Calls fn(line_number, line) for every non-blank line until fn returns false.
template <typename Fn>
void for_each_line(const std::string& text, Fn fn) {
  size_t start = 0, number = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    std::string l = text.substr(start, end - start);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l.find_first_not_of(" \t") != std::string::npos && !fn(number, l)) return;
    start = end + 1;
  }
}

json parse_json_line(const std::string& path, size_t line, const std::string& text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) fail("{}:{}: expected a JSON object, got {}", path, line, j.type_name());
    return j;
  } catch (const json::parse_error& e) {
    fail("{}:{}: not valid JSON ({})", path, line, e.what());
  }
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) fail("{}: missing the \"{}\" field", where, key);
  if (!it->is_string()) fail("{}: \"{}\" is a {}, expected a string", where, key, it->type_name());
  if (it->get_ref<const std::string&>().empty()) fail("{}: \"{}\" is empty", where, key);
  return it->get<std::string>();
}

Prompt gsm8k_record(const json& j, const std::string& where) {
  Prompt p{string_field(j, "question", where), std::nullopt, where};
  if (j.contains("answer")) {
    std::string answer = string_field(j, "answer", where);
    p.reference_answer = gsm8k_reference_answer(answer);
    if (!p.reference_answer) fail("{}: \"answer\" has no \"#### N\" final answer", where);
  }
  return p;
}

Prompt mtbench_record(const json& j, const std::string& where) {
  auto it = j.find("turns");
  if (it == j.end() || !it->is_array() || it->empty())
    fail("{}: expected \"turns\": a non-empty array of strings", where);
  if (!(*it)[0].is_string() || (*it)[0].get_ref<const std::string&>().empty())
    fail("{}: the first turn is not a non-empty string", where);
  return Prompt{(*it)[0].get<std::string>(), std::nullopt, where};
}

// ShareGPT: the first turn whose speaker is the human ("human" in ShareGPT dumps, "user" in some re-exports).
Prompt sharegpt_record(const json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected an object, got {}", where, j.type_name());
  auto it = j.find("conversations");
  if (it == j.end() || !it->is_array()) fail("{}: expected \"conversations\": an array of turns", where);
  for (const json& turn : *it) {
    if (!turn.is_object() || !turn.contains("from") || !turn["from"].is_string())
      fail("{}: a turn without a string \"from\"", where);
    const std::string& from = turn["from"].get_ref<const std::string&>();
    if (from == "human" || from == "user")
      return Prompt{string_field(turn, "value", where), std::nullopt, where};
  }
  fail("{}: no human turn in \"conversations\"", where);
}

// The line on which byte `offset` of `text` lies (1-based).
size_t line_of(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(offset), '\n'));
}

std::vector<Prompt> load_sharegpt(const std::string& path, const std::string& text, size_t limit) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    fail("{}:{}: not valid JSON ({})", path, line_of(text, e.byte > 0 ? e.byte - 1 : 0), e.what());
  }
  if (!doc.is_array()) fail("{}: expected a JSON array of conversations, got {}", path, doc.type_name());
  std::vector<Prompt> out;
  for (size_t i = 0; i < doc.size() && (limit == 0 || out.size() < limit); ++i)
    out.push_back(sharegpt_record(doc[i], fmt::format("{}: entry {}", path, i)));
  return out;
}

}  // namespace

DatasetFormat parse_dataset_format(const std::string& name) {
  if (name == "auto") return DatasetFormat::kAuto;
  if (name == "gsm8k") return DatasetFormat::kGsm8k;
  if (name == "sharegpt") return DatasetFormat::kShareGpt;
  if (name == "mt-bench" || name == "mtbench") return DatasetFormat::kMtBench;
  if (name == "text") return DatasetFormat::kText;
  fail("--dataset-format {}: expected auto, gsm8k, sharegpt, mt-bench or text", name);
}

const char* format_name(DatasetFormat f) {
  switch (f) {
    case DatasetFormat::kAuto:
      return "auto";
    case DatasetFormat::kGsm8k:
      return "gsm8k";
    case DatasetFormat::kShareGpt:
      return "sharegpt";
    case DatasetFormat::kMtBench:
      return "mt-bench";
    case DatasetFormat::kText:
      return "text";
  }
  return "?";
}

DatasetFormat detect_format(const std::string& path) {
  if (ends_with(path, ".json")) return DatasetFormat::kShareGpt;
  if (!ends_with(path, ".jsonl")) return DatasetFormat::kText;
  std::string text = read_whole(path);
  DatasetFormat found = DatasetFormat::kAuto;
  for_each_line(text, [&](size_t number, const std::string& l) {
    json j = parse_json_line(path, number, l);
    if (j.contains("question"))
      found = DatasetFormat::kGsm8k;
    else if (j.contains("turns"))
      found = DatasetFormat::kMtBench;
    else
      fail(
          "{}:{}: cannot tell the dataset format (no \"question\" or \"turns\" field); pass --dataset-format",
          path, number);
    return false;
  });
  if (found == DatasetFormat::kAuto) fail("dataset {}: no records", path);
  return found;
}

std::vector<Prompt> load_dataset(const std::string& path, DatasetFormat format, size_t limit) {
  if (format == DatasetFormat::kAuto) format = detect_format(path);
  std::string text = read_whole(path);
  std::vector<Prompt> out;
  if (format == DatasetFormat::kShareGpt) {
    out = load_sharegpt(path, text, limit);
  } else {
    for_each_line(text, [&](size_t number, const std::string& l) {
      std::string where = fmt::format("{}:{}", path, number);
      if (format == DatasetFormat::kText)
        out.push_back(Prompt{l, std::nullopt, where});
      else if (format == DatasetFormat::kGsm8k)
        out.push_back(gsm8k_record(parse_json_line(path, number, l), where));
      else
        out.push_back(mtbench_record(parse_json_line(path, number, l), where));
      return limit == 0 || out.size() < limit;
    });
  }
  if (out.empty()) fail("dataset {}: no prompts (format {})", path, format_name(format));
  return out;
}

}  // namespace r1::bench
