#pragma once
// Renders a parsed template against a JSON context.
#include <cstdint>
#include <memory>
#include <string>

#include "tokenizer/jinja/ast.h"

namespace r1::jinja {

// Bounds that keep a hostile or buggy template from exhausting memory or time.
struct RenderLimits {
  size_t max_output_bytes = size_t(64) << 20;  // all text produced, macro results included
  uint64_t max_steps = 4'000'000;              // statements executed plus loop iterations
  int max_call_depth = 64;                     // nested macro calls
};

// Throws r1::Error "<origin>:<line>:<col>: ..." for any failure, raise_exception(...) included.
std::string render(const Body& program, const std::string& origin, std::shared_ptr<const Json> context,
                   const RenderLimits& limits = {});

}  // namespace r1::jinja
