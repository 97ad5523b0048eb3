#include "model/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/error.h"

namespace r1 {

using nlohmann::ordered_json;

std::optional<GgmlType> ggml_type_from_id(uint32_t id) {
  switch (id) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 6:
    case 7:
    case 8:
    case 12:
    case 13:
    case 14:
    case 30:
      return GgmlType(id);
    default:
      return std::nullopt;
  }
}

std::string ggml_type_id_name(uint32_t id) {
  // ggml.h's enum ggml_type; the gaps are ids ggml retired (4, 5, 31-33, 36-38).
  static const char* const kNames[] = {
      "F32",    "F16",   "Q4_0",  "Q4_1",   nullptr, nullptr, "Q5_0",    "Q5_1",   "Q8_0",    "Q8_1",
      "Q2_K",   "Q3_K",  "Q4_K",  "Q5_K",   "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8",    "I16",   "I32",     "I64",    "F64",     "IQ1_M",
      "BF16",   nullptr, nullptr, nullptr,  "TQ1_0", "TQ2_0", nullptr,   nullptr,  nullptr,   "MXFP4"};
  if (id < std::size(kNames) && kNames[id]) return kNames[id];
  return "not a ggml type this version knows";
}

std::string ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
      return "F32";
    case GgmlType::F16:
      return "F16";
    case GgmlType::BF16:
      return "BF16";
    case GgmlType::Q4_0:
      return "Q4_0";
    case GgmlType::Q4_1:
      return "Q4_1";
    case GgmlType::Q5_0:
      return "Q5_0";
    case GgmlType::Q5_1:
      return "Q5_1";
    case GgmlType::Q8_0:
      return "Q8_0";
    case GgmlType::Q4_K:
      return "Q4_K";
    case GgmlType::Q5_K:
      return "Q5_K";
    case GgmlType::Q6_K:
      return "Q6_K";
  }
  return "?";
}

size_t ggml_block_elems(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return 1;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return 256;
    default:
      return 32;
  }
}

size_t ggml_block_bytes(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
      return 4;
    case GgmlType::F16:
    case GgmlType::BF16:
      return 2;
    case GgmlType::Q4_0:
      return 18;  // f16 d, 16 bytes of nibbles
    case GgmlType::Q4_1:
      return 20;  // f16 d, f16 m, 16 bytes of nibbles
    case GgmlType::Q5_0:
      return 22;  // f16 d, 4 bytes of fifth bits, 16 bytes of nibbles
    case GgmlType::Q5_1:
      return 24;  // f16 d, f16 m, 4 + 16 bytes
    case GgmlType::Q8_0:
      return 34;  // f16 d, 32 int8
    case GgmlType::Q4_K:
      return 144;  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
    case GgmlType::Q5_K:
      return 176;  // as Q4_K plus 32 bytes of fifth bits
    case GgmlType::Q6_K:
      return 210;  // 128 low nibbles, 64 bytes of high 2 bits, 16 int8 scales, f16 d
  }
  return 0;
}

uint64_t GgufTensor::numel() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  return n;
}

std::vector<size_t> GgufTensor::shape() const {
  return std::vector<size_t>(ne.rbegin(), ne.rend());
}

namespace {

// GGUF metadata value types (gguf.h enum gguf_type).
enum : uint32_t {
  kU8 = 0,
  kI8,
  kU16,
  kI16,
  kU32,
  kI32,
  kF32,
  kBool,
  kString,
  kArray,
  kU64,
  kI64,
  kF64,
};

// Sequential little-endian reads that never pass the end: running out is a "truncated" error naming `what`.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& file) : p_(data), size_(size), file_(file) {}
  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }
  void need(size_t n, const std::string& what) const {
    if (n > left())
      fail("{}: truncated: {} needs {} bytes at offset {}, the file has {} left", file_, what, n, pos_,
           left());
  }
  template <typename T>
  T pod(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(const std::string& what) {
    uint64_t n = pod<uint64_t>(what + " length");
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t size_, pos_ = 0;
  const std::string& file_;
};

size_t scalar_size(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    case kString:
      return 8;  // at least the length
    default:
      return 0;
  }
}

ordered_json read_scalar(Reader& r, uint32_t type, const std::string& what, const std::string& file) {
  switch (type) {
    case kU8:
      return r.pod<uint8_t>(what);
    case kI8:
      return r.pod<int8_t>(what);
    case kU16:
      return r.pod<uint16_t>(what);
    case kI16:
      return r.pod<int16_t>(what);
    case kU32:
      return r.pod<uint32_t>(what);
    case kI32:
      return r.pod<int32_t>(what);
    case kF32:
      return double(r.pod<float>(what));
    case kU64:
      return r.pod<uint64_t>(what);
    case kI64:
      return r.pod<int64_t>(what);
    case kF64:
      return r.pod<double>(what);
    case kBool: {
      uint8_t b = r.pod<uint8_t>(what);
      if (b > 1) fail("{}: {}: bool value {} is neither 0 nor 1", file, what, b);
      return b == 1;
    }
    case kString:
      return r.str(what);
    default:
      fail("{}: {}: unknown value type {}", file, what, type);
  }
}

ordered_json read_value(Reader& r, uint32_t type, const std::string& what, const std::string& file) {
  if (type != kArray) return read_scalar(r, type, what, file);
  uint32_t elem = r.pod<uint32_t>(what + " element type");
  if (elem == kArray) fail("{}: {}: arrays of arrays are not supported", file, what);
  size_t esize = scalar_size(elem);
  if (esize == 0) fail("{}: {}: unknown array element type {}", file, what, elem);
  uint64_t n = r.pod<uint64_t>(what + " element count");
  // Each element needs at least esize bytes: a count the rest of the file cannot hold is a truncated (or
  // corrupt) file, refused before anything is allocated for it.
  if (n > r.left() / esize)
    fail("{}: truncated: {} claims {} elements, more than the {} bytes left can hold", file, what, n,
         r.left());
  ordered_json a = ordered_json::array();
  a.get_ref<ordered_json::array_t&>().reserve(n);
  for (uint64_t i = 0; i < n; ++i) a.push_back(read_scalar(r, elem, what, file));
  return a;
}

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

}  // namespace

GgufHeader parse_gguf(const uint8_t* data, size_t size, const std::string& file) {
  Reader r(data, size, file);
  if (size < 4) fail("{}: truncated: {} bytes, too short for a GGUF header", file, size);
  if (std::memcmp(data, "GGUF", 4) != 0)
    fail("{}: not a GGUF file (bad magic {:02x} {:02x} {:02x} {:02x}, expected \"GGUF\")", file, data[0],
         data[1], data[2], data[3]);
  r.pod<uint32_t>("magic");
  GgufHeader h;
  h.version = r.pod<uint32_t>("version");
  if (h.version != 2 && h.version != 3)
    fail("{}: unsupported GGUF version {} (supported: 2, 3)", file, h.version);
  const uint64_t n_tensors = r.pod<uint64_t>("tensor count");
  const uint64_t n_kv = r.pod<uint64_t>("metadata count");
  // A key/value pair takes at least 13 bytes (key length, type, one byte); a tensor info at least 28.
  if (n_kv > r.left() / 13) fail("{}: truncated: {} metadata entries cannot fit in the file", file, n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.str(fmt::format("metadata key {}", i));
    const std::string what = fmt::format("metadata \"{}\"", key);
    uint32_t type = r.pod<uint32_t>(what + " type");
    if (h.metadata.contains(key)) fail("{}: {} appears twice", file, what);
    h.metadata[key] = read_value(r, type, what, file);
  }
  if (h.metadata.contains("general.alignment")) {
    const auto& a = h.metadata["general.alignment"];
    if (!a.is_number_unsigned() || a.get<uint64_t>() == 0 || (a.get<uint64_t>() & (a.get<uint64_t>() - 1)))
      fail("{}: metadata \"general.alignment\" must be a power of two, got {}", file, a.dump());
    h.alignment = a.get<uint64_t>();
  }
  if (n_tensors > r.left() / 28)
    fail("{}: truncated: {} tensor infos cannot fit in the file", file, n_tensors);
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.str(fmt::format("tensor info {} name", i));
    const std::string what = fmt::format("tensor \"{}\"", t.name);
    if (!names.insert(t.name).second) fail("{}: {} appears twice", file, what);
    uint32_t n_dims = r.pod<uint32_t>(what + " dimension count");
    if (n_dims < 1 || n_dims > 4) fail("{}: {}: {} dimensions (GGUF allows 1 to 4)", file, what, n_dims);
    unsigned __int128 numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      t.ne.push_back(r.pod<uint64_t>(what + " dimension"));
      if (t.ne.back() == 0) fail("{}: {}: dimension {} is zero", file, what, d);
      numel *= t.ne.back();
      if (numel > (unsigned __int128)(1) << 50) fail("{}: {}: shape is too large", file, what);
    }
    uint32_t type_id = r.pod<uint32_t>(what + " type");
    auto type = ggml_type_from_id(type_id);
    if (!type)
      fail(
          "{}: {}: unsupported tensor type {} ({}; r1serve computes F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, "
          "Q5_1, Q4_K, Q5_K, Q6_K)",
          file, what, type_id, ggml_type_id_name(type_id));
    t.type = *type;
    t.offset = r.pod<uint64_t>(what + " offset");
    const size_t blk = ggml_block_elems(t.type);
    if (t.ne[0] % blk != 0)
      fail("{}: {}: innermost dimension {} is not a multiple of {}'s block of {}", file, what, t.ne[0],
           ggml_type_name(t.type), blk);
    t.bytes = uint64_t(numel) / blk * ggml_block_bytes(t.type);
    if (t.offset % h.alignment != 0)
      fail("{}: {}: data offset {} is not aligned to {} bytes", file, what, t.offset, h.alignment);
    h.tensors.push_back(std::move(t));
  }
  h.data_offset = align_up(r.pos(), h.alignment);
  const uint64_t data_size = size > h.data_offset ? size - h.data_offset : 0;
  for (const auto& t : h.tensors)
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      fail(
          "{}: tensor \"{}\": data [{}, {}) lies past the end of the file (data section is {} bytes; "
          "truncated?)",
          file, t.name, t.offset, t.offset + t.bytes, data_size);
  std::vector<const GgufTensor*> by_offset;
  for (const auto& t : h.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensor& prev = *by_offset[i - 1];
    const GgufTensor& cur = *by_offset[i];
    if (cur.offset < prev.offset + prev.bytes)
      fail("{}: tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", file, prev.name, prev.offset,
           prev.offset + prev.bytes, cur.name, cur.offset, cur.offset + cur.bytes);
  }
  return h;
}

bool looks_like_gguf(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  return f && f.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

std::string gguf_model_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return looks_like_gguf(path) ? path : "";
  const fs::path inside = fs::path(path) / kGgufModelFile;
  return fs::is_regular_file(inside, ec) && looks_like_gguf(inside.string()) ? inside.string() : "";
}

GgufFile::GgufFile(const std::string& path)
    : file_(path), header_(parse_gguf(file_.data(), file_.size(), path)) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const GgufTensor* GgufFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

}  // namespace r1
