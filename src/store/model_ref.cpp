#include "store/model_ref.h"

#include <cctype>

#include "core/error.h"

namespace r1::store {

namespace {
bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}
std::string part_problem(const std::string& part, const char* what) {
  if (part.empty()) return fmt::format("the {} is empty", what);
  for (char c : part)
    if (!id_char(c)) return fmt::format("the {} \"{}\" has the character '{}'", what, part, c);
  if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.')
    return fmt::format("the {} \"{}\" starts or ends with '-' or '.'", what, part);
  return {};
}
}  // namespace

std::string repo_id_problem(const std::string& repo_id) {
  size_t slash = repo_id.find('/');
  if (slash == std::string::npos || repo_id.find('/', slash + 1) != std::string::npos)
    return "a Hub id is ORG/NAME (exactly one '/')";
  if (repo_id.size() > 96) return "a Hub id has at most 96 characters";
  if (repo_id.find("--") != std::string::npos || repo_id.find("..") != std::string::npos)
    return "a Hub id may not contain \"--\" or \"..\"";
  if (auto p = part_problem(repo_id.substr(0, slash), "organisation"); !p.empty()) return p;
  return part_problem(repo_id.substr(slash + 1), "name");
}

std::string revision_problem(const std::string& rev) {
  if (rev.empty()) return "the revision after '@' is empty";
  if (rev.front() == '/' || rev.back() == '/' || rev.find("..") != std::string::npos ||
      rev.find("//") != std::string::npos)
    return fmt::format("the revision \"{}\" is not a valid git ref", rev);
  for (char c : rev)
    if (!id_char(c) && c != '/') return fmt::format("the revision \"{}\" has the character '{}'", rev, c);
  return {};
}

std::string repo_path_problem(const std::string& path) {
  if (path.empty() || path.front() == '/') return fmt::format("\"{}\" is not a relative path", path);
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos)
    return fmt::format("\"{}\" has a backslash or NUL", path);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string comp = path.substr(start, end - start);
    if (comp.empty() || comp == "." || comp == "..")
      return fmt::format("\"{}\" has an empty, \".\" or \"..\" component", path);
    start = end + 1;
  }
  return {};
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && !(c >= 'a' && c <= 'f')) return false;
  return true;
}

std::optional<ModelRef> parse_model_ref(const std::string& s) {
  // Paths ("./x", "/abs", "a/b/c", "~/m") are not Hub ids; only one '/' with something on each side is.
  size_t at = s.find('@');
  std::string id = s.substr(0, at);
  size_t slash = id.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == id.size() ||
      id.find('/', slash + 1) != std::string::npos || id[0] == '.' || id[0] == '~')
    return std::nullopt;
  ModelRef ref;
  ref.repo_id = id;
  if (auto p = repo_id_problem(id); !p.empty()) fail("model \"{}\": {}", s, p);
  if (at != std::string::npos) {
    ref.revision = s.substr(at + 1);
    if (auto p = revision_problem(ref.revision); !p.empty()) fail("model \"{}\": {}", s, p);
  }
  return ref;
}

}  // namespace r1::store
