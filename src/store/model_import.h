#pragma once
// `r1serve import`: a model from any source the resolver accepts (a folder, a Hub id) into the model store
// under a name, after every check the loader makes, with a manifest and, when asked, a packed weight file
// (model/packed_weights.h) in place of the safetensors.
#include <functional>
#include <optional>
#include <string>

#include "model/weights.h"
#include "store/model_resolver.h"
#include "store/model_store.h"

namespace r1::store {

struct ImportOptions {
  std::string source;                   // as given: a folder, ORG/NAME[@REV], a store name
  StoreName name;                       // where it goes
  std::optional<WeightPrecision> pack;  // write weights.r1pack at this precision (bf16, q8, q4)
  bool replace = false;                 // replace an entry of the same name (atomically)
  ResolveOptions resolve;               // how `source` is found (Hub cache, pulling, offline)
  // Checks the package can do beyond the weights (the tokenizer and chat template load): the app passes them
  // in, since the store knows nothing of tokenizers. Throws r1::Error to refuse the import.
  std::function<void(const std::string& dir)> check_package;
};

// Imports and returns the manifest written. Nothing appears in the store unless every step succeeded: the
// model is staged under tmp/ and moved into place with one rename. Throws r1::Error naming the file and the
// problem.
Manifest import_model(const ModelStore& store, const ImportOptions& options);

}  // namespace r1::store
