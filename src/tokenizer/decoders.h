#pragma once
// tokenizer.json "decoder": turns token strings back into bytes. Supported: ByteLevel, Replace, ByteFallback,
// Fuse, Strip, Metaspace, Sequence. Decoders here produce raw bytes (a lone <0x E4> stays the byte E4) and
// the caller turns the result into valid UTF-8 once, so a character split across tokens is never lost.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace r1::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token list in place, as Hugging Face's decode_chain. `continuation` says the first token is
  // not the start of the sequence (incremental decoding), so start-of-text rules (Strip after Fuse,
  // Metaspace's prefix space) do not apply to it.
  virtual void decode_chain(std::vector<std::string>& tokens, bool continuation) const = 0;
  // True when the output of this decoder is one joined string (ByteLevel, Fuse).
  virtual bool joins() const { return false; }
};

// nullptr for a JSON null (tokens are then joined with spaces, as Hugging Face does).
std::unique_ptr<Decoder> make_decoder(const json& j, const JsonPlace& at);

}  // namespace r1::tok
