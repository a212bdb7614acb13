#!/usr/bin/env bash
# Idempotent setup for a fresh Debian/Ubuntu machine (run as root): system packages, the account the
# local sandbox runs as, a running Docker engine, the base image, a virtual environment with swe-srl
# and its extras.
# Usage: scripts/setup.sh [--no-docker]
set -euo pipefail
cd "$(dirname "$0")/.."
want_docker=1
[ "${1:-}" = "--no-docker" ] && want_docker=0
if [ -t 1 ]; then log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
else log() { printf '[setup] %s\n' "$*"; }; fi  # no escape codes in CI logs and files

need_pkgs=()
for pkg in bubblewrap git python3-pytest patch tmux gcc python3-dev util-linux passwd; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ "$want_docker" = 1 ]; then
  command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
fi
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing system packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Root in a local sandbox is this unprivileged account on the host (swe_srl/sandbox/identity.py);
# swe-srl also creates it on first use, but a machine set up once should not need root for that.
sandbox_user=${SWE_SRL_SANDBOX_USER:-swe-srl-sandbox}
if ! getent passwd "$sandbox_user" >/dev/null; then
  log "creating the sandbox account $sandbox_user"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    "$sandbox_user"
fi
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" = 0 ] \
  || [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
  echo "setup: unprivileged user namespaces are disabled; the local sandbox needs them" \
    "(sysctl user.max_user_namespaces / kernel.unprivileged_userns_clone); use --sandbox docker otherwise" >&2
fi

if [ "$want_docker" = 1 ]; then
  if ! docker info >/dev/null 2>&1; then
    log "starting the Docker engine"
    mkdir -p /var/log
    driver=overlay2
    for attempt in overlay2 vfs; do
      driver=$attempt
      nohup dockerd --storage-driver="$driver" --iptables=false --ip6tables=false --bridge=none \
        >/var/log/swe-srl-dockerd.log 2>&1 &
      for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
      docker info >/dev/null 2>&1 && break
      pkill dockerd || true; sleep 2
    done
    docker info >/dev/null 2>&1 || { echo "setup: the Docker engine did not start (see /var/log/swe-srl-dockerd.log)" >&2; exit 1; }
    log "Docker engine running (storage driver $driver)"
  fi
  bash dockerfiles/build-base.sh
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.swe-srl-installed
# Reinstall when the package metadata or the C extension's source changed (the editable install
# builds swe_srl/_seqmatch, the fast exact difflib ratio behind the SRL reward).
stale=0
[ -f "$stamp" ] || stale=1
for f in pyproject.toml setup.py swe_srl/_seqmatch.c; do
  [ -f "$f" ] && [ "$f" -nt "$stamp" ] && stale=1
done
if [ "$stale" = 1 ]; then
  log "installing swe-srl with extras train, serve, eval, dev, ray"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[train,serve,eval,dev,ray]' >.venv/install.log 2>&1 \
    || { cat .venv/install.log; echo "setup: pip install failed (log above)" >&2; exit 1; }
  touch "$stamp"
fi
log "ready"
