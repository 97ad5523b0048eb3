#include "store/model_import.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <set>

#include "core/error.h"
#include "model/gguf_file.h"
#include "model/model_package.h"
#include "model/packed_weights.h"
#include "store/sha256.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {

// The package's files that are not weights, copied when present.
constexpr const char* kPackageFiles[] = {
    "config.json",           "generation_config.json",  "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"};

std::string utc_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Removes the staging folder unless the import was committed (then it no longer exists or holds the entry
// replaced, which commit removes).
struct StagingGuard {
  fs::path dir;
  ~StagingGuard() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

void fsync_file(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) fail("{}: cannot flush to disk: {}", p.string(), std::strerror(errno));
  ::close(fd);
}

void copy_into(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);  // follows the Hub cache's symlinks
  if (ec) fail("{}: cannot copy to {}: {}", from.string(), to.string(), ec.message());
}

}  // namespace

Manifest import_model(const ModelStore& store, const ImportOptions& o) {
  ResolvedModel src = resolve_model(o.source, o.resolve);
  ModelPackage pkg = ModelPackage::open(src.dir);
  const ModelConfig& c = pkg.config();
  spdlog::info("import {}: checking {} ({}, {} layers)", o.name.str(), src.dir, c.architecture, c.n_layers);
  Weights::check(pkg);
  if (o.check_package) o.check_package(src.dir);

  StagingGuard staged{store.make_staging_dir("import")};
  for (const char* f : kPackageFiles)
    if (fs::exists(fs::path(src.dir) / f)) copy_into(fs::path(src.dir) / f, staged.dir / f);

  Manifest m;
  m.name = o.name.name;
  m.tag = o.name.tag;
  m.source = o.source;
  m.revision = src.commit;
  m.architecture = c.architecture;
  m.parameters = c.n_params();
  // A GGUF model is kept whole as model.gguf: it gives the config and tokenizer (and the weights, unless
  // packed).
  if (pkg.gguf()) copy_into(pkg.gguf()->path(), staged.dir / kGgufModelFile);
  if (o.pack) {
    spdlog::info("import {}: converting the weights to {} and packing them", o.name.str(),
                 weight_precision_name(*o.pack));
    const fs::path packed = staged.dir / kPackedWeightsFile;
    {
      Weights w = Weights::load(pkg, *o.pack);
      write_packed_weights(packed.string(), c, w, *o.pack);
    }
    check_packed_weights(packed.string(), c);  // what is on disk, read back
    m.weights_format = "packed";
    m.dtype = weight_precision_name(*o.pack);
  } else if (!pkg.packed_path().empty()) {
    copy_into(pkg.packed_path(), staged.dir / kPackedWeightsFile);
    m.weights_format = "packed";
    m.dtype = weight_precision_name(check_packed_weights((staged.dir / kPackedWeightsFile).string(), c));
  } else if (pkg.gguf()) {
    m.weights_format = "gguf";
  } else {
    std::set<std::string> files;
    for (const auto& [name, loc] : pkg.tensors())
      files.insert(fs::path(loc.file->path()).filename().string());
    if (fs::exists(fs::path(src.dir) / "model.safetensors.index.json"))
      files.insert("model.safetensors.index.json");
    for (const auto& f : files) copy_into(fs::path(src.dir) / f, staged.dir / f);
    m.weights_format = "safetensors";
  }
  // The copies are checked as the loader will read them, then described in the manifest.
  if (o.pack || !pkg.packed_path().empty()) {
    ModelPackage::open(staged.dir.string());
  } else {
    Weights::check(ModelPackage::open(staged.dir.string()));
  }
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(staged.dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    fsync_file(p);  // the rename that publishes the entry must not outrun its contents
    m.files.push_back({p.filename().string(), uint64_t(fs::file_size(p)), sha256_file(p)});
  }
  m.imported_at = utc_now();
  write_manifest((staged.dir / "manifest.json").string(), m);
  store.commit(staged.dir, o.name, o.replace);
  spdlog::info("import {}: {} files, {:.1f} MB in {}", o.name.str(), m.files.size(),
               double(m.total_bytes()) / 1e6, store.entry_dir(o.name).string());
  return m;
}

}  // namespace r1::store
