// deploy/kubernetes validated offline: kube_validate.mjs renders the base and every overlay with
// `kubectl kustomize` and checks each resource against the Kubernetes API types (kubernetes-models' schemas
// and kubernetes-types under tsc --strict, which rejects unknown fields) or its CRD's published schema (KEDA,
// Prometheus Operator; vendored in data/crds), and that broken copies are rejected by each validator. The
// memory limits follow the sizing arithmetic from each model's architecture. The alert rules pass promtool,
// and a broken rule does not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "kube_support.h"
#include "prometheus_process.h"

namespace r1::test {
namespace {

std::string slurp_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(KubeManifests, BaseAndOverlaysRenderAndPassApiTypesCrdSchemasAndBrokenCopiesFail) {
  R1_REQUIRE_JS();
  R1_REQUIRE_KUBECTL();
  TempDir dir;
  // With ../shared, each Deployment's memory is also checked against its model's sizing arithmetic.
  const bool sizing = shared_available();
  CommandResult r = run_kube_validate("validate", dir.path().string(), sizing ? shared_path("") : "");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  if (sizing) {
    EXPECT_NE(r.out.find("overlays/7b: DeepSeek-R1-Distill-Qwen-7B 7.616e9 params"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("base: DeepSeek-R1-Distill-Qwen-1.5B 1.777e9 params"), std::string::npos) << r.out;
  }
  for (const char* k : {"base:", "overlays/hpa:", "overlays/keda:", "overlays/7b:", "overlays/local:"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << " not validated\n" << r.out;
  EXPECT_NE(r.out.find("6 broken copies rejected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ScaledObject"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HorizontalPodAutoscaler"), std::string::npos) << r.out;
}

TEST(KubeManifests, PromtoolAcceptsThePrometheusRuleAndRejectsABrokenRule) {
  R1_REQUIRE_JS();
  R1_REQUIRE_KUBECTL();
  if (!std::filesystem::exists(kPromtoolBin))
    GTEST_SKIP() << kPromtoolBin << " missing: scripts/install-deps.sh installs Debian's prometheus";
  TempDir dir;
  CommandResult x = run_kube_validate("extract", dir.path().string());
  ASSERT_EQ(x.exit_code, 0) << x.out << x.err;
  CommandResult r = run_command({kPromtoolBin, "check", "rules", dir.file("rules.yml")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS: 4 rules found"), std::string::npos) << r.out << r.err;
  for (const char* alert :
       {"R1serveDown", "R1serveQueueGrowing", "R1serveKvCacheAlmostFull", "R1serveSlowTimeToFirstToken"})
    EXPECT_NE(slurp_file(dir.file("rules.yml")).find(alert), std::string::npos) << alert;

  // The same file with one expression cut short: promtool must refuse it.
  std::string rules = slurp_file(dir.file("rules.yml"));
  std::string broken = std::regex_replace(rules, std::regex("expr: up\\{job=\"r1serve\"\\} == 0"),
                                          "expr: up{job=\"r1serve\"} ==");
  ASSERT_NE(broken, rules);
  std::ofstream(dir.file("broken.yml")) << broken;
  CommandResult b = run_command({kPromtoolBin, "check", "rules", dir.file("broken.yml")});
  EXPECT_NE(b.exit_code, 0) << b.out << b.err;
}

}  // namespace
}  // namespace r1::test
