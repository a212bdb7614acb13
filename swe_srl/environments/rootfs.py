"""The base root filesystem environments are built on and run in, without a Docker engine.

Both backends must see the same interpreter. The Docker backend runs ``swe-srl/base:bookworm``; the
local backend binds the same files read-only into bubblewrap, from an unpacked copy of that image
(``docker export``), or, on a machine without a Docker engine, from the same debootstrap recipe the
image is built with (``dockerfiles/build-base.sh --rootfs DIR``). The host's own ``/usr`` (and its
site-packages) is never what an environment sees.

Unpacked trees are cached under ``<cache>/rootfs/<key>``; preparation happens in a temporary
directory renamed into place, so concurrent callers never see half a tree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from swe_srl.sandbox.base import SandboxError
from swe_srl.sandbox.workspace import default_cache_root

BUILD_BASE_SCRIPT = Path(__file__).resolve().parents[2] / "dockerfiles" / "build-base.sh"
READY = ".swe-srl-rootfs-ready"
SYSTEM_CACHE = Path("/var/cache/swe-srl")
# Mount points a sandbox binds over: they must exist in the read-only tree.
_MOUNT_POINTS = ("testbed", "opt/swe-srl/venv", "run/swe-srl", "proc", "dev", "tmp", "root")


class RootfsError(SandboxError):
    """The base root filesystem cannot be provided on this machine."""


def environments_cache(cache_root: Path | None = None) -> Path:
    """Where root filesystems and built environments live.

    ``cache_root`` or ``$SWE_SRL_CACHE`` when given; otherwise, when running as root,
    ``/var/cache/swe-srl``: the local sandbox binds these files into bubblewrap started as an
    unprivileged account, which must be able to reach them (root's home is closed to it).
    """
    if cache_root is not None:
        return Path(cache_root)
    if os.environ.get("SWE_SRL_CACHE") or os.geteuid() != 0:
        return default_cache_root()
    return SYSTEM_CACHE


def _docker_image_id(image: str) -> str | None:
    if shutil.which("docker") is None:
        return None
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def rootfs_key(image: str) -> str:
    """Cache key of the tree for ``image``: its image id when the engine has it, else the recipe."""
    origin = _docker_image_id(image) or f"debootstrap:{image}"
    return hashlib.sha256(origin.encode()).hexdigest()[:16]


def _export_image(image: str, dest: Path) -> None:
    created = subprocess.run(["docker", "create", image, "true"], capture_output=True, text=True)
    if created.returncode != 0:
        raise RootfsError(f"docker create {image} failed: {created.stderr.strip()}")
    container = created.stdout.strip()
    try:
        export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
        untar = subprocess.run(
            ["tar", "-x", "-C", str(dest), "--exclude=dev/*", "--exclude=proc/*", "--exclude=sys/*"],
            stdin=export.stdout,
            capture_output=True,
        )
        export.wait()
        if export.returncode or untar.returncode:
            raise RootfsError(
                f"docker export of {image} failed: {untar.stderr.decode(errors='replace')[-500:]}"
            )
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)


def _debootstrap(dest: Path) -> None:
    proc = subprocess.run(
        ["bash", str(BUILD_BASE_SCRIPT), "--rootfs", str(dest)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RootfsError(f"building the base root filesystem failed: {proc.stderr.strip()[-1000:]}")


def base_rootfs(image: str = "swe-srl/base:bookworm", cache_root: Path | None = None) -> Path:
    """An unpacked, read-only-usable copy of ``image``'s root filesystem (built once, then cached)."""
    root = environments_cache(cache_root) / "rootfs"
    final = root / rootfs_key(image)
    if (final / READY).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
    try:
        tree = tmp / "tree"
        tree.mkdir()
        if _docker_image_id(image):
            _export_image(image, tree)
        else:
            _debootstrap(tree)
        for point in _MOUNT_POINTS:
            (tree / point).mkdir(parents=True, exist_ok=True)
        (tree / READY).write_text(image + "\n")
        try:
            os.rename(tree, final)
        except OSError:
            if not (final / READY).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def rootfs_python(rootfs: Path) -> str:
    """``major.minor`` of the tree's ``python3``, read from its files (the interpreter is not run here)."""
    versions = sorted(
        p.name.removeprefix("python")
        for p in (rootfs / "usr" / "lib").glob("python3.*")
        if (p / "os.py").is_file()
    )
    if not versions:
        raise RootfsError(f"{rootfs} holds no python3 standard library")
    return versions[-1]
