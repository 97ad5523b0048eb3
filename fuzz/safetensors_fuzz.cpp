// Any byte string given as a safetensors file must parse or fail with r1::Error — never crash or overread.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    r1::SafetensorsHeader h = r1::parse_safetensors(data, size, "fuzz.safetensors");
    // Touch every byte the header claims, so an unchecked offset shows up as an overread.
    volatile uint8_t sink = 0;
    for (const auto& t : h.tensors)
      for (size_t i = t.begin; i < t.end; ++i) sink = sink ^ data[h.data_offset + i];
  } catch (const r1::Error&) {
  }
  return 0;
}
