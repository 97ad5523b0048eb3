#include "tokenizer/fast_split.h"

namespace r1::tok {

FastSplitter find_fast_splitter(const std::string& pattern) {
  return nullptr;
}

}  // namespace r1::tok
