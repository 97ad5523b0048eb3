#pragma once
// Compiled grammars by what the request asked for, so a schema sent with every request (an agent's tool list)
// compiles once. One cache per vocabulary (per served model); thread-safe; least recently used entries go
// first past `capacity`. Compilation happens outside the lock; two threads asking for the same new grammar
// may both compile it (the first stored wins).
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "structured/compiled_grammar.h"
#include "structured/json_schema.h"

namespace r1::structured {

enum class GrammarKind { json_schema, json_object, regex, choice, gbnf };

struct GrammarRequest {
  GrammarKind kind = GrammarKind::json_object;
  // json_schema: the schema as JSON text; regex: the pattern; choice: a JSON array of strings; gbnf: the
  // grammar; json_object: unused.
  std::string text;
};

// The grammar a request describes. Throws r1::Error naming the problem (a schema keyword, a regex offset, a
// GBNF line and column).
Grammar build_grammar(const GrammarRequest& req, const JsonGrammarOptions& opts = {});

class GrammarCache {
 public:
  explicit GrammarCache(std::shared_ptr<const Vocabulary> vocab, size_t capacity = 256,
                        JsonGrammarOptions json_opts = {});

  // The compiled grammar (cached, or compiled now). Throws r1::Error as build_grammar and CompiledGrammar do.
  std::shared_ptr<const CompiledGrammar> get(const GrammarRequest& req);

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  using Key = std::pair<int, std::string>;
  std::shared_ptr<const Vocabulary> vocab_;
  size_t capacity_;
  JsonGrammarOptions json_opts_;
  mutable std::mutex mu_;
  std::list<Key> lru_;  // front = most recent
  std::map<Key, std::pair<std::shared_ptr<const CompiledGrammar>, std::list<Key>::iterator>> entries_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace r1::structured
