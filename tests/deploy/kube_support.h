#pragma once
// What the deploy tests share: kubectl's path, and kube_validate.mjs run in one of its modes.
#include <string>
#include <vector>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {

// kubectl on PATH ("" when absent). Debian 12's kubernetes-client (kubectl 1.20, kustomize v2.0.3) and a
// current kubectl (kustomize v5) both render deploy/kubernetes.
inline std::string kubectl_binary() {
  return find_program("kubectl");
}

// `node kube_validate.mjs MODE kubectl REPO JS_DIR WORK_DIR [SHARED_DIR]`.
inline CommandResult run_kube_validate(const std::string& mode, const std::string& work_dir,
                                       const std::string& shared_dir = "") {
  std::vector<std::string> argv = {node_binary(), std::string(R1_DEPLOY_TEST_DIR) + "/kube_validate.mjs",
                                   mode,          kubectl_binary(),
                                   R1_REPO_DIR,   js_dir(),
                                   work_dir};
  if (!shared_dir.empty()) argv.push_back(shared_dir);
  return run_command(argv);
}

}  // namespace r1::test

#define R1_REQUIRE_KUBECTL()                                                                              \
  do {                                                                                                    \
    if (::r1::test::kubectl_binary().empty())                                                             \
      GTEST_SKIP() << "kubectl not on PATH: scripts/install-deps.sh installs Debian's kubernetes-client"; \
  } while (0)
