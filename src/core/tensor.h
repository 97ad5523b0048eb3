#pragma once
// A non-owning view of a tensor: element type, shape (outermost first) and a pointer to row-major data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace r1 {

struct TensorView {
  DType dtype = DType::F32;
  std::vector<size_t> shape;
  const void* data = nullptr;

  size_t numel() const {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    return n;
  }
  size_t nbytes() const { return dtype_bytes(dtype, numel()); }
  size_t rows() const { return shape.empty() ? 1 : numel() / shape.back(); }
  size_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

std::string shape_str(const std::vector<size_t>& shape);

}  // namespace r1
