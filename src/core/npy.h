#pragma once
// NumPy .npy files of float32 (little-endian, C order): written by `run --dump-logits`, read by golden tests.
#include <cstddef>
#include <string>
#include <vector>

namespace r1 {

struct NpyArray {
  std::vector<size_t> shape;
  std::vector<float> data;
};

void write_npy_f32(const std::string& path, const float* data, const std::vector<size_t>& shape);
// Throws r1::Error naming the file if it is not a float32 C-order .npy.
NpyArray read_npy_f32(const std::string& path);

}  // namespace r1
