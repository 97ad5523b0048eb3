#include "model/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace r1 {

using nlohmann::json;

namespace {

// safetensors itself refuses headers over 100 MB; so do we, before allocating anything for them.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

SafetensorsEntry parse_entry(const std::string& name, const json& v, size_t data_size, const std::string& file) {
  SafetensorsEntry e;
  e.name = name;
  if (!v.is_object()) fail("{}: tensor \"{}\": header entry is not an object", file, name);
  if (!v.contains("dtype") || !v["dtype"].is_string()) fail("{}: tensor \"{}\": missing dtype", file, name);
  std::string dt = v["dtype"].get<std::string>();
  auto d = dtype_from_safetensors(dt);
  if (!d) fail("{}: tensor \"{}\": unsupported dtype \"{}\"", file, name, dt);
  e.dtype = *d;
  if (!v.contains("shape") || !v["shape"].is_array()) fail("{}: tensor \"{}\": missing shape", file, name);
  unsigned __int128 numel = 1;
  for (const json& s : v["shape"]) {
    if (!s.is_number_unsigned()) fail("{}: tensor \"{}\": shape must hold non-negative integers", file, name);
    e.shape.push_back(s.get<uint64_t>());
    numel *= e.shape.back();
    if (numel > (unsigned __int128)(1) << 62) fail("{}: tensor \"{}\": shape is too large", file, name);
  }
  const json& off = v.contains("data_offsets") ? v["data_offsets"] : json();
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail("{}: tensor \"{}\": data_offsets must be two non-negative integers", file, name);
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.end < e.begin) fail("{}: tensor \"{}\": data_offsets end {} before begin {}", file, name, e.end, e.begin);
  size_t expect = size_t(numel) * dtype_size(e.dtype);
  if (e.end - e.begin != expect)
    fail("{}: tensor \"{}\": {} bytes for shape {} of {} (expected {})", file, name, e.end - e.begin,
         shape_str(e.shape), dtype_name(e.dtype), expect);
  if (e.end > data_size)
    fail("{}: tensor \"{}\": data [{}, {}) lies past the end of the file (data section is {} bytes; truncated?)",
         file, name, e.begin, e.end, data_size);
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& file) {
  if (size < 8) fail("{}: truncated: {} bytes, too short for a safetensors header", file, size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | data[i];
  if (n > size - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes)", file, n, size);
  if (n > kMaxHeaderBytes) fail("{}: header length {} exceeds the 100 MB limit", file, n);
  json h;
  try {
    h = json::parse(data + 8, data + 8 + n);
  } catch (const json::exception& e) {
    fail("{}: header is not valid JSON: {}", file, e.what());
  }
  if (!h.is_object()) fail("{}: header is not a JSON object", file);
  SafetensorsHeader out;
  out.data_offset = 8 + n;
  size_t data_size = size - out.data_offset;
  try {
    for (auto it = h.begin(); it != h.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      out.tensors.push_back(parse_entry(it.key(), it.value(), data_size, file));
    }
  } catch (const json::exception& e) {
    fail("{}: malformed header: {}", file, e.what());
  }
  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const auto& a, const auto& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  for (size_t i = 1; i < out.tensors.size(); ++i) {
    const auto& prev = out.tensors[i - 1];
    const auto& cur = out.tensors[i];
    // Zero-sized tensors occupy no bytes and cannot overlap anything.
    if (cur.begin < prev.end && cur.begin != cur.end && prev.begin != prev.end)
      fail("{}: tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", file, prev.name, prev.begin, prev.end,
           cur.name, cur.begin, cur.end);
  }
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(path), header_(parse_safetensors(file_.data(), file_.size(), path)) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

TensorView SafetensorsFile::view(const SafetensorsEntry& e) const {
  return TensorView{e.dtype, e.shape, file_.data() + header_.data_offset + e.begin};
}

}  // namespace r1
