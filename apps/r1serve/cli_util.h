#pragma once
// Small helpers shared by subcommands.
#include <cstdint>
#include <string>
#include <vector>

namespace r1::app {

// "1,2, 3" -> {1, 2, 3}; throws r1::Error naming the flag on anything else.
std::vector<int32_t> parse_id_list(const std::string& s, const std::string& flag);

}  // namespace r1::app
