// The container image, built and run for real with podman: a Debian 12 base made with debootstrap
// (scripts/container/base-image.sh, no registry), the Dockerfile's prebuilt path packaging the binary these
// tests were built with, then the container serving the shared tiny model mounted read-only, as a non-root
// user with a read-only root filesystem, answering from the host through a published loopback port
// (container_e2e.mjs), draining an in-flight stream on `podman stop`; `podman kube play` of a Deployment
// that uses the image, and of deploy/kubernetes/overlays/local as kubectl renders it. Skipped, saying why,
// where podman is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server_process.h"
#include "support/test_support.h"
#include "tls_files.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = R1_SOURCE_DIR;
const std::string kImage = "localhost/r1serve:e2e";

std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (::access((fs::path(dir) / name).c_str(), X_OK) == 0) return (fs::path(dir) / name).string();
  return "";
}

CommandResult podman(std::vector<std::string> args) {
  args.insert(args.begin(), on_path("podman"));
  return run_command(args);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The host port published for the container's 8080 ("127.0.0.1:40123" → 40123), or 0.
int published_port(const std::string& container) {
  CommandResult r = podman({"port", container, "8080/tcp"});
  std::string out = trim(r.out);
  size_t colon = out.rfind(':');
  return r.exit_code == 0 && colon != std::string::npos ? std::stoi(out.substr(colon + 1)) : 0;
}

// What the container logged (r1serve logs to stdout; podman logs gives stdout and stderr apart).
std::string logs_of(const std::string& container) {
  CommandResult r = podman({"logs", container});
  return r.out + r.err;
}

// Waits for the server's "ready" line: connecting before it listens would fail the test.
bool wait_ready(const std::string& container, int seconds) {
  for (int i = 0; i < seconds * 4; ++i) {
    if (logs_of(container).find("ready: serving") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

bool wait_healthy(const std::string& container, int port, int seconds) {
  return wait_ready(container, seconds) && http_request(port, "GET", "/health").status == 200;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Container : public ::testing::Test {
 protected:
  // Builds the image once for the suite; a failure is reported by every test.
  static void SetUpTestSuite() {
    if (on_path("podman").empty()) return;
    // The release build's binary is what the image packages (a sanitizer build needs libraries the image
    // lacks).
    const std::string bin = R1SERVE_BIN, release = kSource + "/build/release/";
    if (bin.rfind(release, 0) != 0 || ::geteuid() != 0) return;
    // Podman settings for this machine (ulimits that runc accepts, the runc runtime), unless the caller
    // chose.
    setenv("CONTAINERS_CONF", (kSource + "/scripts/container/containers.conf").c_str(), 0);
    auto t0 = std::chrono::steady_clock::now();
    CommandResult base = run_command({"/bin/bash", kSource + "/scripts/container/base-image.sh"});
    if (base.exit_code != 0) {
      build_error_ = "scripts/container/base-image.sh failed:\n" + base.out + base.err;
      return;
    }
    CommandResult b = podman({"build", "--quiet", "--build-arg", "BASE=localhost/debian:12-bootstrap",
                              "--build-arg", "BINARY_FROM=" + bin.substr(kSource.size() + 1), "-t", kImage,
                              "-f", kSource + "/Dockerfile", kSource});
    if (b.exit_code != 0) {
      build_error_ = "podman build failed:\n" + b.out + b.err;
      return;
    }
    built_ = true;
    std::cout << "image built in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  }

  void SetUp() override {
    if (on_path("podman").empty())
      GTEST_SKIP() << "podman is not installed (scripts/install-deps.sh installs podman, buildah, runc, "
                      "debootstrap)";
    if (std::string(R1SERVE_BIN).rfind(kSource + "/build/release/", 0) != 0)
      GTEST_SKIP() << "the image packages the release build's binary; this build is " << R1SERVE_BIN;
    if (::geteuid() != 0) GTEST_SKIP() << "debootstrap (the base image) needs root; CI runs as root";
    R1_REQUIRE_SHARED();
    R1_REQUIRE_JS();
    ASSERT_TRUE(built_) << build_error_;
  }

  static std::string model_dir() { return fs::canonical(shared_path("models/stories260K-hf")).string(); }
  static std::string chat_template() {
    return fs::canonical(shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"))
        .string();
  }

  static inline bool built_ = false;
  static inline std::string build_error_;
};

TEST_F(Container, ImageIsSmallAndServesReadOnlyAsNonRootAndDrainsOnStop) {
  CommandResult size = podman({"image", "inspect", "--format", "{{.Size}}", kImage});
  ASSERT_EQ(size.exit_code, 0) << size.err;
  const double mb = std::stod(size.out) / 1e6;
  std::cout << "runtime image: " << mb << " MB\n";
  EXPECT_LE(mb, 150.0) << "the runtime image should stay within 150 MB";

  const std::string name = "r1serve-e2e-" + std::to_string(::getpid());
  podman({"rm", "-f", name});
  // The model and template mounted read-only; the image's own user; nothing writable but /data (a volume)
  // and the tmpfs podman mounts on /tmp with --read-only. No --ulimit memlock=-1: this machine refuses to
  // raise it, and the test model is not a packed file anyway (docs/DEPLOY.md's memlock note). A twentieth of
  // a core keeps the tiny model's 400-token stream in flight for a second or more, long enough for `podman
  // stop` to land in the middle of it.
  CommandResult run = podman({"run",
                              "-d",
                              "--name",
                              name,
                              "--read-only",
                              "--cap-drop=all",
                              "--security-opt=no-new-privileges",
                              "--cpus=0.05",
                              "-p",
                              "127.0.0.1::8080",
                              "-v",
                              model_dir() + ":/models/stories:ro",
                              "-v",
                              chat_template() + ":/models/template.jinja:ro",
                              "-e",
                              "MODEL=/models/stories",
                              kImage,
                              "--chat-template",
                              "/models/template.jinja",
                              "--kv-cache-memory",
                              "64MiB",
                              "--threads",
                              "1",
                              "--drain-timeout",
                              "20"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  struct Cleanup {
    std::string name;
    ~Cleanup() { podman({"rm", "-f", "-v", name}); }  // -v: its anonymous /data volume too
  } cleanup{name};
  int port = published_port(name);
  ASSERT_GT(port, 0) << logs_of(name);
  ASSERT_TRUE(wait_healthy(name, port, 60)) << logs_of(name);

  EXPECT_EQ(trim(podman({"exec", name, "id", "-u"}).out), "10001");
  CommandResult write = podman({"exec", name, "sh", "-c", "touch /usr/local/bin/x"});
  EXPECT_NE(write.exit_code, 0) << "the root filesystem is writable";
  EXPECT_NE(write.err.find("Read-only file system"), std::string::npos) << write.err;

  CommandResult r = run_command({node_binary(), kSource + "/tests/container/container_e2e.mjs",
                                 "http://127.0.0.1:" + std::to_string(port), js_dir(), name, "30"});
  std::string logs = logs_of(name);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- container log ---\n" << logs;
  EXPECT_EQ(trim(podman({"inspect", "--format", "{{.State.ExitCode}}", name}).out), "0") << logs;
  // The stream was in flight when SIGTERM came, and the server drained it rather than being killed.
  EXPECT_NE(logs.find("Terminated received: draining"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("for the 0 in flight"), std::string::npos) << logs;
  EXPECT_NE(logs.find("stopped"), std::string::npos) << logs;
}

// HTTPS from the container: a certificate and key made here, mounted read-only, given as --ssl-certfile and
// --ssl-keyfile; tls_e2e.mjs through the published port (the openai client trusting the test's CA completes
// a chat, one trusting another CA is refused, HTTP/2 over ALPN, no answer to plain HTTP).
TEST_F(Container, ServesHttpsWithAMountedCertificate) {
  TlsFiles certs;
  ASSERT_TRUE(certs.ok()) << certs.log();
  // openssl writes the key for its owner only; the image's user (10001, group 0) reads it through group 0,
  // as from a Secret mounted with a group-readable mode.
  fs::permissions(certs.path("server-key.pem"), fs::perms::group_read, fs::perm_options::add);
  const std::string name = "r1serve-tls-" + std::to_string(::getpid());
  podman({"rm", "-f", name});
  CommandResult run = podman({"run",
                              "-d",
                              "--name",
                              name,
                              "--read-only",
                              "--cap-drop=all",
                              "-p",
                              "127.0.0.1::8080",
                              "-v",
                              model_dir() + ":/models/stories:ro",
                              "-v",
                              chat_template() + ":/models/template.jinja:ro",
                              "-v",
                              certs.dir() + ":/tls:ro",
                              "-e",
                              "MODEL=/models/stories",
                              kImage,
                              "--chat-template",
                              "/models/template.jinja",
                              "--kv-cache-memory",
                              "64MiB",
                              "--threads",
                              "1",
                              "--ssl-certfile",
                              "/tls/server.pem",
                              "--ssl-keyfile",
                              "/tls/server-key.pem"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  struct Cleanup {
    std::string name;
    ~Cleanup() { podman({"rm", "-f", "-v", name}); }
  } cleanup{name};
  int port = published_port(name);
  ASSERT_GT(port, 0) << logs_of(name);
  ASSERT_TRUE(wait_ready(name, 60)) << logs_of(name);
  CommandResult r = run_command({node_binary(), kSource + "/tests/e2e/tls_e2e.mjs",
                                 "https://127.0.0.1:" + std::to_string(port), js_dir(), certs.dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- container log ---\n" << logs_of(name);
}

TEST_F(Container, KubePlayOfADeploymentStartsAPodThatAnswers) {
  // The Deployment names the image, the model folder and the host port as placeholders filled in here.
  std::string yaml = slurp(kSource + "/tests/container/kube-play-deployment.yaml");
  ASSERT_FALSE(yaml.empty());
  const int port = 20000 + ::getpid() % 20000;
  auto fill = [&](const std::string& key, const std::string& value) {
    for (size_t at; (at = yaml.find(key)) != std::string::npos;) yaml.replace(at, key.size(), value);
  };
  fill("${IMAGE}", kImage);
  fill("${MODEL_DIR}", model_dir());
  fill("${TEMPLATE}", chat_template());
  fill("${HOST_PORT}", std::to_string(port));
  const std::string file =
      (fs::temp_directory_path() / ("r1serve-kube-" + std::to_string(::getpid()) + ".yaml"));
  std::ofstream(file) << yaml;
  CommandResult play = podman({"kube", "play", "--replace", file});
  struct Cleanup {
    std::string file;
    ~Cleanup() {
      podman({"kube", "down", file});
      std::error_code ec;
      fs::remove(file, ec);
    }
  } cleanup{file};
  ASSERT_EQ(play.exit_code, 0) << play.out << play.err;
  // kube play prints "Pod:\n<id>\n...Container:\n<id>".
  std::string container;
  if (size_t at = play.out.find("Container:\n"); at != std::string::npos)
    container = trim(play.out.substr(at + 11, play.out.find('\n', at + 11) - at - 11));
  ASSERT_FALSE(container.empty()) << play.out;
  EXPECT_EQ(trim(podman({"exec", container, "id", "-u"}).out), "10001");
  ASSERT_TRUE(wait_healthy(container, port, 60)) << podman({"ps", "-a"}).out << logs_of(container);
  CommandResult r = run_command({node_binary(), kSource + "/tests/container/container_e2e.mjs",
                                 "http://127.0.0.1:" + std::to_string(port), js_dir(), "-"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- pod log ---\n" << logs_of(container);
}

// deploy/kubernetes/overlays/local rendered by kubectl and played whole by podman (kube_play_local.mjs
// changes only the image, the model folder, the host port and the name): the base Deployment's pod answers
// a chat completion through the published port, as the Deployment's user with its read-only root, and its
// liveness probe, which podman runs as a healthcheck inside the container (restarting it on failure),
// passes.
TEST_F(Container, KubePlayOfTheRenderedLocalOverlayAnswersAndPassesItsLivenessProbe) {
  const std::string kubectl = find_program("kubectl");
  ASSERT_FALSE(kubectl.empty())
      << "kubectl not on PATH: scripts/install-deps.sh installs Debian's kubernetes-client";
  TempDir dir;
  const int port = 40000 + ::getpid() % 20000;
  const std::string name = "r1serve-local-" + std::to_string(::getpid());
  CommandResult render =
      run_command({node_binary(), kSource + "/tests/container/kube_play_local.mjs", kubectl, kSource,
                   js_dir(), shared_path(""), dir.path().string(), kImage, std::to_string(port), name});
  ASSERT_EQ(render.exit_code, 0) << render.out << render.err;
  std::cout << render.out;
  const std::string yaml = dir.file("play.yaml");
  CommandResult play = podman({"kube", "play", "--replace", yaml});
  struct Cleanup {
    std::string file;
    ~Cleanup() { podman({"kube", "down", file}); }
  } cleanup{yaml};
  ASSERT_EQ(play.exit_code, 0) << play.out << play.err;
  std::string container;
  if (size_t at = play.out.find("Container:\n"); at != std::string::npos)
    container = trim(play.out.substr(at + 11, play.out.find('\n', at + 11) - at - 11));
  ASSERT_FALSE(container.empty()) << play.out;
  ASSERT_TRUE(wait_healthy(container, port, 60)) << podman({"ps", "-a"}).out << logs_of(container);

  // The pod's security context as rendered.
  EXPECT_EQ(trim(podman({"exec", container, "id", "-u"}).out), "65532");
  EXPECT_NE(podman({"exec", container, "sh", "-c", "touch /usr/local/bin/x"}).exit_code, 0)
      << "the root filesystem is writable";
  // The liveness probe as podman runs it (a systemd timer would, every periodSeconds; this machine has no
  // systemd, so the test runs it): `curl -f` on the probe's port and path, inside the container.
  EXPECT_NE(podman({"inspect", "--format", "{{json .Config.Healthcheck.Test}}", container})
                .out.find("http://localhost:8080/version"),
            std::string::npos);
  CommandResult probe = podman({"healthcheck", "run", container});
  EXPECT_EQ(probe.exit_code, 0) << probe.out << probe.err;

  CommandResult r = run_command({node_binary(), kSource + "/tests/container/container_e2e.mjs",
                                 "http://127.0.0.1:" + std::to_string(port), js_dir(), "-"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- pod log ---\n" << logs_of(container);
  probe = podman({"healthcheck", "run", container});
  EXPECT_EQ(probe.exit_code, 0) << probe.out << probe.err;
  // Never restarted, still running.
  EXPECT_EQ(trim(podman({"inspect", "--format", "{{.RestartCount}} {{.State.Status}}", container}).out),
            "0 running");
}

}  // namespace
}  // namespace r1::test
