#pragma once
// The chat page at `/` (sources in web/): its files are compiled into the binary at build time
// (embed_web_assets.cmake writes web_assets.cpp), so the page works offline with nothing beside the binary.
#include <span>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace r1::server {

struct WebAsset {
  const char* path;          // URL path: "/" or "/assets/..."
  const char* content_type;  // with charset for text
  const char* etag;          // strong ETag, quoted: a hash of the bytes
  std::string_view bytes;
  std::string_view gzip;  // the same bytes gzip-compressed; empty where that is not smaller
};

// Every embedded file (the generated web_assets.cpp defines it).
std::span<const WebAsset> web_assets();

// Whether `path` is the page's: `/` and `/assets/...`. Only GET and HEAD reach the page (POST / is TGI's).
bool is_web_page_path(const std::string& method, const std::string& path);

// Answers a GET/HEAD of the page or one of its assets: 200 with the bytes (gzip-compressed when the client
// accepts gzip and the file has a compressed copy; that variant's ETag ends in -gz), or 304 when
// If-None-Match holds the variant's ETag, or a 404 error for an unknown asset. Every answer carries the
// page's Content-Security-Policy (no inline script, nothing from another origin), nosniff, and Cache-Control:
// no-cache (the browser keeps the files and revalidates them with the ETag, so a new binary's page is never
// mixed with an old one's). Returns the status sent.
int serve_web_page(const HttpRequest& req, const std::string& path, HttpResponder& res);

}  // namespace r1::server
