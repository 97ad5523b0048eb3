#!/usr/bin/env bash
# Makes a Debian 12 base image without a registry: debootstrap --variant=minbase from the apt source this
# machine is configured with, then `podman import`. No container registry is reachable from CI, so the
# Dockerfile's `ARG BASE` is pointed at this image (localhost/debian:12-bootstrap).
#
# usage: scripts/container/base-image.sh [image-name]   (idempotent: an existing image is kept)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
image="${1:-localhost/debian:12-bootstrap}"

if podman image exists "$image"; then
  echo "base image $image exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed (scripts/install-deps.sh)" >&2; exit 1; }

# The first URI of the configured Debian source (deb822 .sources or a one-line sources.list).
mirror="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)"
[ -n "$mirror" ] || mirror="$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -1 || true)"
mirror="${mirror:-http://deb.debian.org/debian}"

root="$(mktemp -d /var/tmp/r1-debootstrap.XXXXXX)"
cleanup() {
  umount "$root/proc" "$root/sys" 2>/dev/null || true
  rm -rf --one-file-system "$root" "$root.log"
}
trap cleanup EXIT
echo "debootstrap bookworm from $mirror into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  exit 1
}
# The image's apt uses this machine's sources (security updates included when configured here) instead of
# the one line debootstrap wrote.
if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
  rm -f "$root/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
fi
if [ -s /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$root/etc/apt/sources.list"; fi
# Slim, as Docker's debian:12-slim is: no docs, man pages or translations, now or from later installs.
cat >"$root/etc/dpkg/dpkg.cfg.d/01-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
tar -C "$root" --one-file-system --exclude=./proc/* --exclude=./sys/* -c . | podman import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "imported $image ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
