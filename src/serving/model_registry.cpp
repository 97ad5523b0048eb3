#include "serving/model_registry.h"

#include <fmt/format.h>

#include "serving/serving_error.h"

namespace r1::serving {

ModelRegistry::ModelRegistry(std::string name) : name_(std::move(name)) {}

void ModelRegistry::publish(std::shared_ptr<ServedModel> model) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
}

std::shared_ptr<ServedModel> ModelRegistry::get(const std::optional<std::string>& name) const {
  std::shared_ptr<ServedModel> m;
  {
    std::lock_guard lock(mu_);
    m = model_;
  }
  if (name && *name != name_)
    throw ServingError(ErrorKind::not_found,
                       fmt::format("The model `{}` does not exist. This server serves `{}`.", *name, name_),
                       "model", "model_not_found");
  if (!m)
    throw ServingError(ErrorKind::unavailable,
                       "the model is still loading; retry when GET /health answers 200", std::nullopt,
                       "model_loading");
  return m;
}

std::vector<std::shared_ptr<ServedModel>> ModelRegistry::loaded() const {
  std::lock_guard lock(mu_);
  if (!model_) return {};
  return {model_};
}

}  // namespace r1::serving
