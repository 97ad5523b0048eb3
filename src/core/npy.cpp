#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/mapped_file.h"

namespace r1 {

void write_npy_f32(const std::string& path, const float* data, const std::vector<size_t>& shape) {
  std::string dims;
  size_t n = 1;
  for (size_t d : shape) {
    dims += std::to_string(d) + ",";
    n *= d;
  }
  if (shape.size() > 1) dims.pop_back();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open for writing", path);
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t hl = uint16_t(header.size());
  f.write(reinterpret_cast<const char*>(&hl), 2);
  f.write(header.data(), std::streamsize(header.size()));
  f.write(reinterpret_cast<const char*>(data), std::streamsize(n * sizeof(float)));
  if (!f) fail("{}: write failed", path);
}

NpyArray read_npy_f32(const std::string& path) {
  MappedFile file(path);
  const uint8_t* p = file.data();
  if (file.size() < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) fail("{}: not a .npy file", path);
  size_t hl, off;
  if (p[6] == 1) {
    hl = p[8] | (size_t(p[9]) << 8);
    off = 10;
  } else {
    if (file.size() < 12) fail("{}: truncated .npy header", path);
    hl = p[8] | (size_t(p[9]) << 8) | (size_t(p[10]) << 16) | (size_t(p[11]) << 24);
    off = 12;
  }
  if (off + hl > file.size()) fail("{}: .npy header past end of file", path);
  std::string header(reinterpret_cast<const char*>(p + off), hl);
  if (header.find("'<f4'") == std::string::npos) fail("{}: not float32 little-endian", path);
  if (header.find("'fortran_order': False") == std::string::npos) fail("{}: fortran order unsupported", path);
  auto lp = header.find("'shape': (");
  if (lp == std::string::npos) fail("{}: no shape in .npy header", path);
  auto rp = header.find(')', lp);
  std::string dims = header.substr(lp + 10, rp - lp - 10);
  NpyArray a;
  std::stringstream ss(dims);
  std::string item;
  size_t n = 1;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    a.shape.push_back(std::stoul(item));
    n *= a.shape.back();
  }
  size_t data_off = off + hl;
  if (data_off + n * 4 > file.size()) fail("{}: .npy data truncated", path);
  a.data.resize(n);
  std::memcpy(a.data.data(), p + data_off, n * 4);
  return a;
}

}  // namespace r1
