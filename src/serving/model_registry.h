#pragma once
// The models this process serves, by name. Today one model, loaded on a background thread at start; the
// registry is where a request's `model` is resolved, so load-on-demand and several models later change only
// this class. Thread-safe.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "serving/served_model.h"

namespace r1::serving {

class ModelRegistry {
 public:
  // `name`: the name the model will be served under (known before it has loaded, for error messages).
  explicit ModelRegistry(std::string name);

  // Publishes the loaded model: it is served from now on.
  void publish(std::shared_ptr<ServedModel> model);
  // The model a request names, or the default one when it names none. Throws ServingError: unavailable
  // (code model_loading) before the model has loaded, not_found (param "model", code model_not_found) for any
  // other name.
  std::shared_ptr<ServedModel> get(const std::optional<std::string>& name = std::nullopt) const;
  // Every loaded model (empty while loading).
  std::vector<std::shared_ptr<ServedModel>> loaded() const;
  const std::string& default_name() const { return name_; }

 private:
  std::string name_;
  mutable std::mutex mu_;
  std::shared_ptr<ServedModel> model_;
};

}  // namespace r1::serving
