#!/usr/bin/env bash
# Build the base image `swe-srl/base:bookworm` (Debian + python3 + pytest + git + patch).
# Where a registry is reachable, `docker build -f dockerfiles/base.Dockerfile` does the same from a
# public image; here there is no registry, so the root filesystem is bootstrapped with debootstrap
# from the machine's own apt mirror (read from its apt sources, never written into the repository).
set -euo pipefail
IMAGE="${1:-swe-srl/base:bookworm}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "image $IMAGE already present"; exit 0
fi
if [ "${SWE_SRL_BASE_FROM_REGISTRY:-0}" = 1 ]; then
  docker build -t "$IMAGE" -f "$(dirname "$0")/base.Dockerfile" "$(dirname "$0")"; exit 0
fi
mirror="${SWE_SRL_APT_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "build-base: no apt mirror found in /etc/apt sources; set SWE_SRL_APT_MIRROR" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build-base: debootstrap is not installed" >&2; exit 1; }
root=$(mktemp -d /var/tmp/swe-srl-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-pytest,git,patch,ca-certificates bookworm "$root" "$mirror" >/dev/null
# Pytest's cache and git's safe.directory check would make observations differ between backends.
chroot "$root" git config --system --add safe.directory '*'
chroot "$root" git config --system user.email swe-srl@localhost
chroot "$root" git config --system user.name swe-srl
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
echo "built $IMAGE"
