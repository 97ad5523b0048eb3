#include "structured/grammar_cache.h"

#include "core/error.h"
#include "structured/gbnf.h"
#include "structured/regex.h"

namespace r1::structured {

Grammar build_grammar(const GrammarRequest& req, const JsonGrammarOptions& opts) {
  switch (req.kind) {
    case GrammarKind::json_object:
      return json_object_grammar(opts);
    case GrammarKind::regex:
      return regex_grammar(req.text);
    case GrammarKind::gbnf:
      return parse_gbnf(req.text);
    case GrammarKind::json_schema:
    case GrammarKind::choice: {
      nlohmann::ordered_json j;
      try {
        j = nlohmann::ordered_json::parse(req.text);
      } catch (const nlohmann::ordered_json::exception& e) {
        fail("{}: not valid JSON: {}", req.kind == GrammarKind::choice ? "choice" : "JSON schema", e.what());
      }
      if (req.kind == GrammarKind::json_schema) return json_schema_grammar(j, opts);
      if (!j.is_array()) fail("choice: must be an array of strings");
      std::vector<std::string> choices;
      for (const auto& c : j) {
        if (!c.is_string()) fail("choice: must be an array of strings");
        choices.push_back(c.get<std::string>());
      }
      return choice_grammar(choices);
    }
  }
  fail("unknown grammar kind");
}

GrammarCache::GrammarCache(std::shared_ptr<const Vocabulary> vocab, size_t capacity,
                           JsonGrammarOptions json_opts)
    : vocab_(std::move(vocab)), capacity_(std::max<size_t>(1, capacity)), json_opts_(json_opts) {}

std::shared_ptr<const CompiledGrammar> GrammarCache::get(const GrammarRequest& req) {
  // Schemas are keyed by their compact form, so clients that pretty-print differently share an entry.
  std::string text = req.kind == GrammarKind::json_object ? std::string() : req.text;
  if (req.kind == GrammarKind::json_schema) {
    const auto j = nlohmann::ordered_json::parse(req.text, nullptr, false);
    if (!j.is_discarded()) text = j.dump();
  }
  const Key key{int(req.kind), std::move(text)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      ++hits_;
      return it->second.first;
    }
    ++misses_;
  }
  auto compiled = std::make_shared<const CompiledGrammar>(build_grammar(req, json_opts_), vocab_);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) return it->second.first;
  lru_.push_front(key);
  entries_.emplace(key, std::make_pair(compiled, lru_.begin()));
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  return compiled;
}

size_t GrammarCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}
uint64_t GrammarCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}
uint64_t GrammarCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace r1::structured
