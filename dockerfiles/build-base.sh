#!/usr/bin/env bash
# Build the base image `swe-srl/base:bookworm` (Debian + python3 + pytest + git + patch).
# Where a registry is reachable, `docker build -f dockerfiles/base.Dockerfile` does the same from a
# public image; here there is no registry, so the root filesystem is bootstrapped with debootstrap
# from the machine's own apt mirror (read from its apt sources, never written into the repository).
# `build-base.sh --rootfs DIR` only bootstraps the root filesystem into DIR (the local backend's
# environments use it on machines without a Docker engine; see swe_srl/environments/rootfs.py).
set -euo pipefail
ROOTFS_ONLY=""
if [ "${1:-}" = "--rootfs" ]; then ROOTFS_ONLY="${2:?--rootfs needs a directory}"; set -- ; fi
IMAGE="${1:-swe-srl/base:bookworm}"
if [ -z "$ROOTFS_ONLY" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "image $IMAGE already present"; exit 0
fi
if [ -z "$ROOTFS_ONLY" ] && [ "${SWE_SRL_BASE_FROM_REGISTRY:-0}" = 1 ]; then
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
if [ -n "$ROOTFS_ONLY" ]; then
  root="$ROOTFS_ONLY"; mkdir -p "$root"
else
  root=$(mktemp -d /var/tmp/swe-srl-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
fi
debootstrap --variant=minbase --include=python3,python3-pytest,git,patch,ca-certificates bookworm "$root" "$mirror" >/dev/null
# Pytest's cache and git's safe.directory check would make observations differ between backends.
chroot "$root" git config --system --add safe.directory '*'
chroot "$root" git config --system user.email swe-srl@localhost
chroot "$root" git config --system user.name swe-srl
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
if [ -n "$ROOTFS_ONLY" ]; then echo "bootstrapped $root"; exit 0; fi
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
echo "built $IMAGE"
