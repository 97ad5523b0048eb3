#pragma once
// A Hub model named on the command line: "ORG/NAME[@REVISION]", validated so that neither part can escape the
// cache folder it names (no "..", no absolute paths, the characters the Hub itself allows).
#include <optional>
#include <string>

namespace r1::store {

struct ModelRef {
  std::string repo_id;            // "ORG/NAME"
  std::string revision = "main";  // a branch, a tag ("v1", "refs/pr/1") or a 40-hex commit
};

// "ORG/NAME" or "ORG/NAME@REV" -> a ModelRef; nullopt when `s` is not shaped like a Hub id at all (so the
// caller may treat it as a path). Throws r1::Error when it is shaped like one but a part is invalid.
std::optional<ModelRef> parse_model_ref(const std::string& s);

// The Hub's rules for a repo id (huggingface_hub's validate_repo_id): ORG/NAME, letters, digits, '-', '_',
// '.', no "--" or "..", at most 96 characters. Empty when valid, else why not.
std::string repo_id_problem(const std::string& repo_id);
// A revision usable as refs/<revision>: non-empty, no "..", no leading/trailing '/', no odd characters.
std::string revision_problem(const std::string& revision);
// A file name inside a repo as the Hub lists it ("config.json", "sub/dir/file"): relative, no "." or ".."
// component, no backslash. Empty when valid.
std::string repo_path_problem(const std::string& path);
// A 40-hex git commit id.
bool is_commit_hash(const std::string& s);

}  // namespace r1::store
