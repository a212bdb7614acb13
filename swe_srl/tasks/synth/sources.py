"""Real projects from the package index: pinned sdists, their source trees, their pinned dependencies.

``download_sdist`` fetches ``name==version`` as a source distribution with pip (this machine's pip
configuration decides where from), checks its sha256 when one is pinned (pip's ``--require-hashes``),
and ``extract_sdist`` unpacks it without its top-level folder. ``resolve_pins`` asks pip's resolver
(``install --dry-run --report``, in the environment build's sandbox) for the full pinned set an
environment needs, so specs list every distribution with its exact version.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from swe_srl.records import SweSrlError


class SourceError(SweSrlError):
    """A project's sdist could not be fetched, checked or unpacked; the message says which."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pip(args: list[str], what: str, timeout: float = 900) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise SourceError(f"{what}: pip {args[0]} failed: {(proc.stderr or proc.stdout).strip()[-1500:]}")
    return proc.stdout


def download_sdist(name: str, version: str, dest: Path, sha256: str = "") -> Path:
    """The sdist of ``name==version`` in ``dest`` (downloaded unless present with the pinned hash)."""
    dest.mkdir(parents=True, exist_ok=True)
    for existing in dest.iterdir():
        if _is_sdist_of(existing, name, version) and (not sha256 or sha256_of(existing) == sha256):
            return existing
    with tempfile.TemporaryDirectory(prefix="swe-srl-sdist-") as tmp:
        requirement = f"{name}=={version}" + (f" --hash=sha256:{sha256}" if sha256 else "")
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text(requirement + "\n")
        args = ["download", "--no-deps", "--no-binary", ":all:", "-d", tmp, "-r", str(req_file)]
        if sha256:
            args.append("--require-hashes")
        _pip(args, f"{name}=={version}")
        found = [p for p in Path(tmp).iterdir() if _is_sdist_of(p, name, version)]
        if not found:
            raise SourceError(f"{name}=={version}: the index has no source distribution")
        target = dest / found[0].name
        shutil.move(found[0], target)
    return target


def _is_sdist_of(path: Path, name: str, version: str) -> bool:
    stem = path.name.lower().replace("_", "-")
    prefix = f"{name.lower().replace('_', '-')}-{version}"
    return stem.startswith(prefix) and stem.endswith((".tar.gz", ".zip", ".tar.bz2"))


def extract_sdist(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest`` (replaced), dropping the single top-level folder."""
    if dest.exists():
        shutil.rmtree(dest)
    with tempfile.TemporaryDirectory(prefix="swe-srl-unpack-") as tmp:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(tmp)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        tops = list(Path(tmp).iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            raise SourceError(f"{archive.name}: expected one top-level folder, found {len(tops)} entries")
        shutil.move(str(tops[0]), dest)
    return dest


def resolve_pins(tree: Path, extra: list[str], name: str) -> list[str]:
    """Every distribution installing ``tree`` plus ``extra`` needs, pinned (``name`` itself excluded).

    pip builds the tree's metadata to resolve it, which runs the sdist's own ``setup.py`` or build
    backend: that happens in the environment build's sandbox, never on this machine.
    """
    from swe_srl.environments.build import resolve_in_buildbox
    from swe_srl.sandbox.base import SandboxError

    try:
        data = resolve_in_buildbox(tree, extra, name)
    except (SandboxError, ValueError) as exc:
        raise SourceError(f"resolving {name}: {exc}") from exc
    own = name.lower().replace("_", "-")
    pins = {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in data["install"]
    }
    pins.pop(own, None)
    return [f"{key}=={value}" for key, value in sorted(pins.items())]
