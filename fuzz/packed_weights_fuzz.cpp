// Any byte string given as the start of a packed weight file must parse or fail with r1::Error — never crash
// or overread. The header/table checksum is recomputed over the input first (when it holds a header), so the
// fuzzer reaches the table's parser instead of stopping at the checksum every time.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "model/packed_weights.h"

namespace {
const r1::ModelConfig& tiny_config() {
  static const r1::ModelConfig c =
      r1::ModelConfig::from_json(nlohmann::json{{"architectures", {"Qwen2ForCausalLM"}},
                                                {"hidden_size", 64},
                                                {"intermediate_size", 96},
                                                {"num_hidden_layers", 1},
                                                {"num_attention_heads", 4},
                                                {"num_key_value_heads", 2},
                                                {"vocab_size", 32},
                                                {"max_position_embeddings", 128},
                                                {"rms_norm_eps", 1e-6},
                                                {"tie_word_embeddings", true}},
                                 "fuzz/config.json");
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  if (size >= 64) {
    uint64_t table_bytes;
    std::memcpy(&table_bytes, buf.data() + 24, 8);
    if (table_bytes <= size - 64) {
      XXH3_state_t* st = XXH3_createState();
      XXH3_64bits_reset(st);
      XXH3_64bits_update(st, buf.data(), 48);
      XXH3_64bits_update(st, buf.data() + 64, table_bytes);
      const uint64_t h = XXH3_64bits_digest(st);
      XXH3_freeState(st);
      std::memcpy(buf.data() + 48, &h, 8);
    }
  }
  try {
    // The file is as long as the input: the data section, when the layout is accepted, lies inside it.
    r1::PackedLayout l =
        r1::parse_packed_layout(buf.data(), buf.size(), buf.size(), tiny_config(), "fuzz.r1pack");
    volatile uint8_t sink = 0;
    for (const auto& t : l.tensors)
      for (size_t i = 0; i < t.bytes; ++i) sink = sink ^ buf[l.data_offset + t.offset + i];
  } catch (const r1::Error&) {
  }
  return 0;
}
