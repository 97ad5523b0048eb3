// The service's refusals before any model work, in protocol-neutral kinds (each adapter maps them to its wire
// form): loading, unknown model, draining.
#include "serving/service.h"

#include <gtest/gtest.h>

#include "serving/serving_error.h"

namespace r1::serving {
namespace {

struct NoEvents final : GenerationObserver {
  void on_complete(const GenerateResult&) override { ADD_FAILURE() << "no generation should run"; }
};

ServingError refusal(Service& s, std::optional<std::string> model) {
  GenerateRequest r;
  r.model = std::move(model);
  r.input = std::vector<TextInput>{{std::string("Once"), {}}};
  try {
    s.generate(r, std::make_shared<NoEvents>(), "id-1");
  } catch (const ServingError& e) {
    return e;
  }
  ADD_FAILURE() << "generate did not refuse";
  return ServingError(ErrorKind::internal, "none");
}

TEST(Service, RefusesWhileLoadingAndForUnknownModels) {
  Service s("m", 4, nullptr);
  ServingError loading = refusal(s, std::nullopt);
  EXPECT_EQ(loading.kind(), ErrorKind::unavailable);
  EXPECT_EQ(loading.code(), "model_loading");
  ServingError other = refusal(s, "other");
  EXPECT_EQ(other.kind(), ErrorKind::not_found);
  EXPECT_EQ(other.param(), "model");
  EXPECT_EQ(other.code(), "model_not_found");
  EXPECT_NE(std::string(other.what()).find("`m`"), std::string::npos) << other.what();
  EXPECT_EQ(s.in_flight(), 0u);  // refusals hold no admission slot
}

TEST(Service, RefusesWhileDraining) {
  Service s("m", 4, nullptr);
  s.set_draining();
  ServingError e = refusal(s, std::nullopt);
  EXPECT_EQ(e.kind(), ErrorKind::unavailable);
  EXPECT_EQ(e.code(), "draining");
}

TEST(ModelRegistry, NamesTheModelItServes) {
  ModelRegistry r("m");
  EXPECT_TRUE(r.loaded().empty());
  EXPECT_EQ(r.default_name(), "m");
  EXPECT_THROW(r.get(), ServingError);
}

}  // namespace
}  // namespace r1::serving
