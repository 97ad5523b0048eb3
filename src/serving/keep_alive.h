#pragma once
// How long an idle model stays loaded (Ollama's keep_alive; r1serve's --idle-unload and R1SERVE_KEEP_ALIVE).
// One parser for the flag, the environment variable and the per-request field, so all three accept the same
// spellings: a number of seconds ("300", "0.5"), a Go-style duration ("5m", "1h30m", "90s", "250ms"), "0"
// (unload as soon as idle) and a negative value or "never" (keep loaded).
#include <chrono>
#include <optional>
#include <string>

namespace r1::serving {

using Millis = std::chrono::milliseconds;

// nullopt = keep loaded forever. Throws r1::Error naming `what` (the flag or field) on anything else.
std::optional<Millis> parse_keep_alive(const std::string& text, const std::string& what);
// The same from a JSON number of seconds (Ollama sends either form).
std::optional<Millis> keep_alive_from_seconds(double seconds);
// "5m", "never", "0s": for logs and /v1/models.
std::string keep_alive_name(const std::optional<Millis>& keep);

}  // namespace r1::serving
