#!/usr/bin/env bash
# Installs everything r1serve needs to build and test on Debian 12 (run as root, or with sudo available).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev
  libpcre2-dev libutf8proc-dev
  libboost-dev libboost-system-dev
  libcurl4-openssl-dev libssl-dev libxxhash-dev libnghttp2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang
  chromium
  prometheus
  podman buildah runc catatonit debootstrap uidmap slirp4netns fuse-overlayfs containernetworking-plugins
)
# Node.js and npm run the test oracles and the openai client, and the build installs the chat page's pinned
# packages with them (web/package-lock.json). A machine may already have them from elsewhere
# (NodeSource's nodejs bundles npm and conflicts with Debian's npm package): then keep what is there.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# kubectl renders deploy/kubernetes (`kubectl kustomize`) for the manifest tests; Debian's kubernetes-client
# (1.20, kustomize v2.0.3) is enough, and a newer kubectl already on the machine is kept.
command -v kubectl >/dev/null 2>&1 || pkgs+=(kubernetes-client)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
