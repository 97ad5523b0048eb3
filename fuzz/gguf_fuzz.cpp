// Any byte string given as a GGUF file must parse or fail with r1::Error — never crash, overread or allocate
// what the file cannot back.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "model/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    r1::GgufHeader h = r1::parse_gguf(data, size, "fuzz.gguf");
    // Touch every byte the tensor table claims, so an unchecked offset shows up as an overread.
    volatile uint8_t sink = 0;
    for (const auto& t : h.tensors)
      for (uint64_t i = 0; i < t.bytes; ++i) sink = sink ^ data[h.data_offset + t.offset + i];
  } catch (const r1::Error&) {
  }
  return 0;
}
