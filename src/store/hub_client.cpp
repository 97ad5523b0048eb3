#include "store/hub_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/hub_cache.h"
#include "store/model_ref.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxRedirects = 10;
constexpr int kDownloadAttempts = 5;
constexpr const char* kUserAgent = "r1serve/0.1.0";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// scheme://host:port of a URL (default ports filled in), or "" when it does not parse.
std::string origin_of(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), &curl_url_cleanup);
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  std::string out;
  for (auto [part, flags] : {std::pair{CURLUPART_SCHEME, 0u}, std::pair{CURLUPART_HOST, 0u},
                             std::pair{CURLUPART_PORT, unsigned(CURLU_DEFAULT_PORT)}}) {
    char* v = nullptr;
    if (curl_url_get(u.get(), part, &v, flags) != CURLUE_OK) return "";
    out += lower(v);
    out += '|';
    curl_free(v);
  }
  return out;
}

// Failures a retry (resuming with Range) can get past; anything else (a refused protocol, a bad URL, TLS
// verification) fails at once.
bool transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Where a response's body goes: a file (downloads: appended, or restarted on 200) or a string.
struct HubClient::Sink {
  FILE* file = nullptr;
  uint64_t offset = 0;  // bytes already in `file` when the request was sent with Range
  uint64_t have = 0;    // bytes in `file` now
  const OnProgress* on_progress = nullptr;
  bool decided = false;  // the first body byte of a 2xx answer has chosen append (206) or restart (200)
  bool io_error = false;
  bool restart = false;  // a 206 that does not continue at `offset`: the file was emptied, fetch it again
  std::string error;     // why the transfer was stopped from inside a callback
};

struct HubClient::Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names, the last response's only
  std::string body;                            // error bodies and API answers (bounded)
  std::string url;                             // the URL that gave this response
  bool sent_token = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

namespace {

struct CallbackState {
  CURL* curl;
  std::map<std::string, std::string>* headers;
  std::string* body;
  void* sink;  // HubClient::Sink*, or null
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<CallbackState*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    st->headers->clear();  // a new response (1xx interim or the real one)
  } else if (size_t colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    (*st->headers)[lower(line.substr(0, colon))] = value;
  }
  return size * n;
}

}  // namespace

HubClient::HubClient(HubConfig config) : config_(std::move(config)) {
  static CurlGlobal global;
  curl_ = curl_easy_init();
  R1_CHECK(curl_, "curl_easy_init failed");
}

HubClient::~HubClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

namespace {
size_t on_body(char* data, size_t size, size_t n, void* user);
}

HubClient::Response HubClient::request(const char* method, std::string url,
                                       const std::vector<std::string>& extra_headers, Sink* sink,
                                       bool follow_other_hosts, double low_speed_time_s) {
  CURL* c = static_cast<CURL*>(curl_);
  const std::string home = origin_of(config_.endpoint);
  for (int hop = 0;; ++hop) {
    Response r;
    r.url = url;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // by hand, below: the token must not leave home
    // A redirect is the server's word: never let it name file://, ftp:// or anything but the web.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(config_.metadata_timeout_s * 1000));
    // A stalled transfer (under 1 byte/s for the timeout) fails rather than hanging forever.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(1L, long(low_speed_time_s)));
    if (std::string(method) == "HEAD")
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (std::string(method) != "GET")
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_slist* headers = nullptr;
    for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
    // Sizes must be the bytes on disk: no transparent compression (as huggingface_hub asks).
    headers = curl_slist_append(headers, "Accept-Encoding: identity");
    std::string auth;
    if (config_.token && origin_of(url) == home) {
      auth = "Authorization: Bearer " + *config_.token;
      headers = curl_slist_append(headers, auth.c_str());
      r.sent_token = true;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CallbackState st{c, &r.headers, &r.body, sink};
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (rc != CURLE_OK) {
      if (sink && sink->io_error) fail("{}", sink->error);
      if (sink && sink->restart) throw TransientError(sink->error);
      std::string msg = fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc));
      if (transient(rc)) throw TransientError(msg);
      fail("{}", msg);
    }
    if (r.status < 300 || r.status >= 400) return r;
    char* loc = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);  // the Location header made absolute
    if (!loc) return r;
    std::string next = loc;
    // HEAD requests stop at a redirect to another host: its headers are the Hub's (X-Linked-Etag...), and the
    // Location is the download URL. Redirects within the Hub (renamed repos) are followed.
    if (!follow_other_hosts && origin_of(next) != origin_of(url)) return r;
    if (hop >= kMaxRedirects) fail("{} {}: more than {} redirects", method, url, kMaxRedirects);
    url = next;
  }
}

namespace {
size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<CallbackState*>(user);
  size_t bytes = size * n;
  long status = 0;
  curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
  auto* sink = static_cast<HubClient::Sink*>(st->sink);
  if (!sink || status < 200 || status >= 300) {
    if (st->body->size() < (16u << 20)) st->body->append(data, bytes);  // API answers, error bodies
    return bytes;
  }
  if (!sink->decided) {
    sink->decided = true;
    std::string want = fmt::format("bytes {}-", sink->offset);
    if (status == 206 && (*st->headers)["content-range"].rfind(want, 0) != 0) {
      // Not the piece asked for: appending it would corrupt the file. Start it over.
      sink->restart = true;
      sink->error = fmt::format("Content-Range \"{}\" does not continue at byte {}; restarting the file",
                                (*st->headers)["content-range"], sink->offset);
      if (std::fflush(sink->file) != 0 || ::ftruncate(::fileno(sink->file), 0) != 0) sink->io_error = true;
      return 0;
    }
    if (status != 206 && sink->offset > 0) {
      // The server ignored Range and sends the whole file: start it again rather than append a second copy.
      if (std::fflush(sink->file) != 0 || ::ftruncate(::fileno(sink->file), 0) != 0 ||
          std::fseek(sink->file, 0, SEEK_SET) != 0) {
        sink->io_error = true;
        sink->error = "cannot truncate the partial download";
        return 0;
      }
      sink->have = 0;
    }
  }
  if (std::fwrite(data, 1, bytes, sink->file) != bytes) {
    sink->io_error = true;
    sink->error = "write error (disk full?)";
    return 0;
  }
  sink->have += bytes;
  if (sink->on_progress && *sink->on_progress) (*sink->on_progress)(sink->have);
  return bytes;
}
}  // namespace

std::string HubClient::status_message(long status, const std::string& what, const std::string& url,
                                      const std::string& error_code, const std::string& error_message,
                                      bool sent_token) {
  std::string detail = error_message.empty() ? "" : fmt::format(" (the Hub says: {})", error_message);
  std::string token_hint = sent_token
                               ? "the token sent (HF_TOKEN or $HF_HOME/token) was refused or lacks access"
                               : "no token was sent: set HF_TOKEN or write a token to $HF_HOME/token";
  if (status == 401)
    return fmt::format(
        "{}: 401 Unauthorized from {}{}: the repository is private, gated or does not exist; {}", what, url,
        detail, token_hint);
  if (status == 403)
    return fmt::format(
        "{}: 403 Forbidden from {}{}: the repository is gated or private; accept its conditions on its Hub "
        "page "
        "with your account and use that account's token; {}",
        what, url, detail, token_hint);
  if (status == 404) {
    const char* kind = error_code == "RevisionNotFound" ? "revision not found"
                       : error_code == "EntryNotFound"  ? "file not found in the repository"
                       : error_code == "RepoNotFound"   ? "repository not found"
                                                        : "not found";
    return fmt::format("{}: 404 from {}: {}{}", what, url, kind, detail);
  }
  return fmt::format("{}: HTTP {} from {}{}", what, status, url, detail);
}

namespace {
[[noreturn]] void raise_status(const std::string& msg, long status) {
  if (status >= 500 || status == 429) throw TransientError(msg);
  throw Error(msg);
}
}  // namespace

RepoRevision HubClient::revision(const std::string& repo_id, const std::string& rev) {
  std::string url = fmt::format("{}/api/models/{}/revision/{}?blobs=true", config_.endpoint, repo_id,
                                url_encode(rev, false));
  Response r;
  try {
    r = request("GET", url, {}, nullptr, false, config_.metadata_timeout_s);
  } catch (const TransientError& e) {
    fail("{}@{}: cannot reach the Hub: {}", repo_id, rev, e.what());
  }
  if (r.status != 200)
    raise_status(status_message(r.status, repo_id + "@" + rev, url, r.header("x-error-code"),
                                r.header("x-error-message"), r.sent_token),
                 r.status);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string() || !is_commit_hash(j["sha"]))
    fail("{}: the answer of {} has no 40-hex \"sha\"", repo_id, url);
  RepoRevision out;
  out.commit = j["sha"];
  if (!j.contains("siblings") || !j["siblings"].is_array())
    fail("{}: the answer of {} has no \"siblings\" list of files", repo_id, url);
  for (const auto& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
      fail("{}: a sibling in the answer of {} has no \"rfilename\"", repo_id, url);
    RepoFile f;
    f.path = s["rfilename"];
    if (auto p = repo_path_problem(f.path); !p.empty())
      fail("{}: the Hub lists a file {} is not a safe relative path", repo_id, p);
    if (s.contains("size") && s["size"].is_number_unsigned()) f.size = s["size"].get<uint64_t>();
    if (s.contains("lfs") && s["lfs"].is_object() && s["lfs"].contains("sha256") &&
        s["lfs"]["sha256"].is_string())
      f.lfs_sha256 = s["lfs"]["sha256"];
    out.files.push_back(std::move(f));
  }
  return out;
}

FileMeta HubClient::file_meta(const std::string& repo_id, const std::string& commit,
                              const std::string& file) {
  std::string what = repo_id + ": " + file;
  std::string url = fmt::format("{}/{}/resolve/{}/{}", config_.endpoint, repo_id, url_encode(commit, false),
                                url_encode(file, true));
  Response r;
  for (int attempt = 1;; ++attempt) {
    try {
      r = request("HEAD", url, {}, nullptr, false, config_.metadata_timeout_s);
      if (r.status >= 500 || r.status == 429) throw TransientError(fmt::format("HTTP {}", r.status));
      break;
    } catch (const TransientError& e) {
      if (attempt >= kDownloadAttempts) fail("{}: HEAD {} failed: {}", what, url, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    } catch (const Error& e) {
      fail("{}: {}", what, e.what());
    }
  }
  bool redirect = r.status >= 300 && r.status < 400;
  if (r.status != 200 && !redirect)
    raise_status(status_message(r.status, what, r.url, r.header("x-error-code"), r.header("x-error-message"),
                                r.sent_token),
                 r.status);
  FileMeta m;
  m.commit = r.header("x-repo-commit");
  if (m.commit.empty())
    fail("{}: {} sent no X-Repo-Commit header: is HF_ENDPOINT ({}) a Hugging Face Hub?", what, r.url,
         config_.endpoint);
  std::string linked = r.header("x-linked-etag");
  m.lfs = !linked.empty();
  std::string etag = m.lfs ? linked : r.header("etag");
  if (etag.empty()) fail("{}: {} sent no ETag or X-Linked-Etag header", what, r.url);
  m.etag = normalize_etag(etag);
  std::string size = r.header("x-linked-size");
  if (size.empty()) size = r.header("content-length");
  char* end = nullptr;
  m.size = std::strtoull(size.c_str(), &end, 10);
  if (size.empty() || *end != '\0')
    fail("{}: {} sent no usable X-Linked-Size or Content-Length", what, r.url);
  if (redirect) {
    char* loc = nullptr;
    curl_easy_getinfo(static_cast<CURL*>(curl_), CURLINFO_REDIRECT_URL, &loc);
    if (!loc) fail("{}: {} answered {} without a Location", what, r.url, r.status);
    m.url = loc;
  } else {
    m.url = r.url;
  }
  return m;
}

void HubClient::download_once(const FileMeta& meta, const std::string& what, const fs::path& partial,
                              const OnProgress& on_progress) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(partial.c_str(), "ab"), &std::fclose);
  if (!f) fail("{}: cannot open {} for writing", what, partial.string());
  std::error_code ec;
  uint64_t have = fs::file_size(partial, ec);
  if (ec) have = 0;
  if (have > meta.size) {  // not this file's prefix: start again
    if (::ftruncate(::fileno(f.get()), 0) != 0) fail("{}: cannot truncate {}", what, partial.string());
    have = 0;
  }
  if (have == meta.size) return;
  Sink sink;
  sink.file = f.get();
  sink.offset = sink.have = have;
  sink.on_progress = &on_progress;
  if (on_progress) on_progress(have);
  std::vector<std::string> headers;
  if (have > 0) headers.push_back(fmt::format("Range: bytes={}-", have));
  Response r = request("GET", meta.url, headers, &sink, true, config_.download_timeout_s);
  if (std::fflush(f.get()) != 0) fail("{}: write error in {}", what, partial.string());
  if (r.status != 200 && r.status != 206)
    raise_status(status_message(r.status, what, r.url, r.header("x-error-code"), r.header("x-error-message"),
                                r.sent_token),
                 r.status);
  if (sink.have < meta.size)  // the connection ended early without curl noticing (no Content-Length)
    throw TransientError(fmt::format("{}: the transfer ended at {} of {} bytes", what, sink.have, meta.size));
  if (sink.have > meta.size)
    fail("{}: the server sent {} bytes where the Hub announced {}", what, sink.have, meta.size);
}

void HubClient::download(const FileMeta& meta, const std::string& what, const fs::path& partial,
                         const OnProgress& on_progress) {
  for (int attempt = 1;; ++attempt) {
    try {
      download_once(meta, what, partial, on_progress);
      return;
    } catch (const TransientError& e) {
      if (attempt >= kDownloadAttempts)
        fail("{}: download failed after {} attempts: {} (the partial file {} is kept: pull again to resume)",
             what, attempt, e.what(), partial.string());
      spdlog::warn("{}: {}; resuming (attempt {} of {})", what, e.what(), attempt + 1, kDownloadAttempts);
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    } catch (const Error& e) {
      // Errors from the transfer itself (a refused redirect...) get the model and file named.
      if (std::string(e.what()).rfind(what, 0) == 0) throw;
      fail("{}: {}", what, e.what());
    }
  }
}

}  // namespace r1::store
