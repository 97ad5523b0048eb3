#pragma once
// The Hub's HTTP API as huggingface_hub speaks it, over one libcurl easy handle (one client per thread):
//   GET  {endpoint}/api/models/{id}/revision/{rev}?blobs=true  -> the commit sha and the files (size, LFS
//   sha256) HEAD {endpoint}/{id}/resolve/{commit}/{file}               -> X-Repo-Commit, X-Linked-Etag/ETag,
//                                                                 X-Linked-Size/Content-Length, Location
//   GET  the resolved URL (often another host: the CDN)        -> the bytes, resumed with Range
// Redirects are followed by hand so that `Authorization: Bearer` goes only to the endpoint's own origin
// (scheme, host and port), never to the host a redirect names.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/hub_config.h"

namespace r1::store {

// A failure worth retrying: the connection broke, timed out, or the server answered 5xx/429.
class TransientError : public Error {
 public:
  using Error::Error;
};

struct RepoFile {
  std::string path;              // "config.json", "sub/x.safetensors"
  std::optional<uint64_t> size;  // from ?blobs=true
  std::string lfs_sha256;        // "" for files stored in git itself
};

struct RepoRevision {
  std::string commit;  // 40 hex
  std::vector<RepoFile> files;
};

struct FileMeta {
  std::string commit;  // X-Repo-Commit
  std::string etag;    // normalized; the blob's name in the cache
  uint64_t size = 0;   // X-Linked-Size, else Content-Length
  bool lfs = false;    // X-Linked-Etag present: the etag is the file's sha256
  std::string url;     // where the bytes are: the resolve URL or its redirect's target
};

class HubClient {
 public:
  explicit HubClient(HubConfig config);
  ~HubClient();
  HubClient(const HubClient&) = delete;
  HubClient& operator=(const HubClient&) = delete;

  const HubConfig& config() const { return config_; }

  RepoRevision revision(const std::string& repo_id, const std::string& revision);
  FileMeta file_meta(const std::string& repo_id, const std::string& commit, const std::string& file);

  // Called as bytes arrive with the bytes of the file now in `partial` (a resumed prefix included).
  using OnProgress = std::function<void(uint64_t have)>;
  // Downloads `meta.url` into `partial`, continuing from its current size with a Range request; an answer of
  // 200 instead of 206 restarts the file from byte 0. Retries broken transfers (with Range again) a few
  // times. Ends with `partial` holding exactly meta.size bytes; checking the contents is the caller's.
  void download(const FileMeta& meta, const std::string& what, const std::filesystem::path& partial,
                const OnProgress& on_progress);

  // The message for an HTTP error status of a request about `what` ("ORG/NAME" or "ORG/NAME: file"), with the
  // Hub's X-Error-Code/X-Error-Message when it sent them, and a hint about HF_TOKEN on 401/403.
  static std::string status_message(long status, const std::string& what, const std::string& url,
                                    const std::string& error_code, const std::string& error_message,
                                    bool sent_token);

  // Internal to hub_client.cpp (its libcurl callbacks use them).
  struct Response;
  struct Sink;

 private:
  Response request(const char* method, std::string url, const std::vector<std::string>& extra_headers,
                   Sink* sink, bool follow_other_hosts, double low_speed_time_s);
  void download_once(const FileMeta& meta, const std::string& what, const std::filesystem::path& partial,
                     const OnProgress& on_progress);

  HubConfig config_;
  void* curl_;  // CURL*, opaque so that only hub_client.cpp includes curl.h
};

// Percent-encodes `s` for a URL path; with keep_slash, '/' stays (file paths), else it is encoded (revisions,
// as huggingface_hub's quote(revision, safe="")).
std::string url_encode(const std::string& s, bool keep_slash);

}  // namespace r1::store
