#pragma once
// The packed weight file (weights.r1pack): a model's weights already converted and laid out exactly as the
// kernels read them (Q8_0/Q4_0 tiles of kernels/quant.h, BF16 matrices, F32 norms and biases), so loading is
// a map and a checksum pass, with no copy and no conversion. `r1serve import --dtype` writes it.
//
// Layout (little-endian):
//   [0, 64)        header: magic "R1PACK\r\n", u32 version (1), u32 precision (1 bf16, 2 q8, 3 q4),
//                  u64 n_tensors, u64 table_bytes, u64 data_offset, u64 data_bytes,
//                  u64 XXH3-64 of header bytes [0, 48) followed by the table, u64 reserved (0)
//   [64, 64+table) one entry per tensor, in weight_specs order: u32 name_len, name (padded with zeros to a
//                  multiple of 8), u32 dtype (0 f32, 1 bf16, 2 q8_0, 3 q4_0), u32 0, u64 rows, u64 cols,
//                  u64 offset (from data_offset, a multiple of 64), u64 bytes, u64 XXH3-64 of the bytes
//   [data_offset, data_offset + data_bytes)  the tensors; data_offset is a multiple of 4096 and the file
//                  ends exactly at data_offset + data_bytes
// XXH3 runs at memory speed (~19 GB/s a core on Zen 4), so every byte is checked at every load: ~0.1 CPU-s
// for a 1.5B model at q8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/weights.h"

namespace r1 {

inline constexpr const char* kPackedWeightsFile = "weights.r1pack";
inline constexpr uint32_t kPackedWeightsVersion = 1;

// Writes `w` (built at `precision`: bf16, q8 or q4) to `path`, flushed to disk before returning.
// Throws r1::Error naming the path on an I/O error or an unsupported precision.
void write_packed_weights(const std::string& path, const ModelConfig& c, const Weights& w,
                          WeightPrecision precision);

// One tensor of a packed file, as its table says.
struct PackedTensor {
  WeightSpec spec;
  size_t offset = 0, bytes = 0;  // within the data section
  uint64_t hash = 0;             // XXH3-64 of the bytes
};
struct PackedLayout {
  WeightPrecision precision = WeightPrecision::Q8;
  size_t data_offset = 0, data_bytes = 0;
  std::vector<PackedTensor> tensors;
};
// Parses and checks the header and table held in [data, data + size) (the file's first bytes; `file_size` is
// the whole file's): magic, version, the header/table checksum, the file's length, and that the table holds
// exactly the tensors config `c` implies, each in the precision's format, inside the data section, aligned
// and not overlapping. Throws r1::Error naming `file` and the problem.
PackedLayout parse_packed_layout(const uint8_t* data, size_t size, size_t file_size, const ModelConfig& c,
                                 const std::string& file);

// How load_packed_weights holds the tensors.
enum class PackedLoad {
  Map,   // in place in a locked, read-only mapping of the file; a copy when memory cannot be locked
  Copy,  // always a copy in anonymous memory
};
// Maps the file, checks its header, table and every tensor's checksum, and returns weights over the tensors
// (64-byte aligned), held as `how` says. `requested` must be Auto or the file's precision. Throws r1::Error
// naming the file and the problem (truncated, corrupted, another model's, ...).
Weights load_packed_weights(const std::string& path, const ModelConfig& c, WeightPrecision requested,
                            PackedLoad how = PackedLoad::Map);
// The same checks, streaming the file through a small buffer (import validates what it wrote this way).
// Returns the file's precision.
WeightPrecision check_packed_weights(const std::string& path, const ModelConfig& c);

}  // namespace r1
