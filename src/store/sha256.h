#pragma once
// SHA-256 of a file (OpenSSL's EVP), as lowercase hex: the Hub's etag for LFS files is exactly this.
#include <filesystem>
#include <string>

namespace r1::store {

std::string sha256_file(const std::filesystem::path& path);

}  // namespace r1::store
