"""The sandbox an environment build runs in: bubblewrap as the unprivileged sandbox account, with network.

A build runs code from the package index (``setup.py``, build backends), so it gets what an episode's
sandbox gets, less one thing: bubblewrap started as the unprivileged account local sandboxes use
(:func:`swe_srl.sandbox.identity.sandbox_user`; the caller itself when swe-srl runs unprivileged),
mapped to uid 0 inside with every capability dropped and no nested user namespaces. Only the
network is shared, for the package index. It sees the base root filesystem's ``/usr`` and ``/etc``
read-only (never the host's), this machine's pip configuration and the paths it names read-only,
and, writable, only what the build makes: the future virtual environment, the source tree's copy,
``$HOME``, its output folder and pip's download cache.

Ownership follows from that: the build's folders are handed to the account before it starts and
the finished virtual environment is handed back to root before it is cached, so no sandbox (which
binds it read-only anyway) and no later build can change it. Host paths the account cannot read
(pip's configuration may name files under root's home) are copied into the build's folder and bound
from there; paths under the tree's read-only ``/etc`` or ``/usr`` that the tree lacks are bound
under ``/run/swe-srl/host`` with the configuration rewritten to match.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from swe_srl.sandbox.bwrap import bwrap_version
from swe_srl.sandbox.identity import HostUser, sandbox_user

VENV = "/opt/swe-srl/venv"
BOOTSTRAP = "/run/swe-srl/bootstrap"
OUT = "/run/swe-srl/out"
HOST = "/run/swe-srl/host"  # host paths pip's configuration names, when the tree has no place for them
WRITABLE = ("venv", "out", "home", "testbed")  # the build folder's parts the build writes


def build_user() -> HostUser | None:
    """The account builds run as (``None``: this process is unprivileged and runs them itself)."""
    return sandbox_user()


def hand_over(tmp: Path, pip_cache: Path, user: HostUser | None) -> None:
    """Give the build's writable folders (and pip's cache) to ``user``; let it traverse ``tmp``."""
    if user is None:
        return
    os.chmod(tmp, 0o711)  # traversable, not listable: bubblewrap opens the binds as the account
    for sub in WRITABLE:
        user.chown_tree(tmp / sub)
    if pip_cache.stat().st_uid != user.uid:  # a cache an earlier build made as root
        user.chown_tree(pip_cache)
    os.chmod(pip_cache, 0o700)


def take_back(venv: Path, max_depth: int = 256) -> None:
    """The built virtual environment, root's again and writable by root alone (when we are root).

    Walked without recursion and without following links (the build wrote it, and may have nested
    it past Python's recursion limit); a tree deeper than ``max_depth`` is refused with ``OSError``.
    """
    if os.geteuid() != 0:
        return
    pending = [(str(venv), 0)]
    while pending:
        path, depth = pending.pop()
        if depth > max_depth:
            raise OSError(f"{venv} nests directories deeper than {max_depth} levels")
        with os.scandir(path) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, depth + 1))
                else:
                    _own_by_root(entry.path)
        _own_by_root(path)


def _own_by_root(path: str) -> None:
    os.chown(path, 0, 0, follow_symlinks=False)
    mode = os.lstat(path).st_mode
    if not stat.S_ISLNK(mode):  # nothing of the build runs now: the link check cannot be raced
        os.chmod(path, mode & ~0o022)


def readable_by(user: HostUser | None, path: str) -> bool:
    """Whether ``user`` can reach and read ``path`` (``None``: the caller, who can)."""
    if user is None:
        return True
    if user.blocked_at(Path(path)) is not None:
        return False
    st = os.stat(path)
    if st.st_uid == user.uid:
        shift = 6
    elif st.st_gid == user.gid:
        shift = 3
    else:
        shift = 0
    need = 0o5 if os.path.isdir(path) else 0o4
    return (st.st_mode >> shift) & need == need


def readable_sources(paths: tuple[str, ...], tmp: Path, user: HostUser | None) -> dict[str, str]:
    """Host path -> what to bind for it: itself, or a copy in ``tmp/host`` the account can read."""
    sources = {}
    for index, path in enumerate(paths):
        if readable_by(user, path):
            sources[path] = path
            continue
        copy = tmp / "host" / str(index) / Path(path).name
        copy.parent.mkdir(parents=True)
        if os.path.isdir(path):
            shutil.copytree(path, copy, symlinks=False)
        else:
            shutil.copyfile(path, copy)
        sources[path] = str(copy)
    for dirpath, _, filenames in os.walk(tmp / "host"):  # copies are the build's to read, not to change
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return sources


def host_binds(rootfs: Path, paths: tuple[str, ...]) -> dict[str, str]:
    """Where each host path pip's configuration names appears in the build (host path -> inside path).

    A path under the tree's read-only ``/etc`` or ``/usr`` that the tree lacks has no mount point
    there: it is bound under ``/run/swe-srl/host`` instead, and the configuration rewritten to match.
    """
    binds = {}
    for path in paths:
        in_system = path.startswith(("/etc/", "/usr/"))
        binds[path] = path if not in_system or (rootfs / path.lstrip("/")).exists() else f"{HOST}{path}"
    return binds


def rewrite(text: str, binds: dict[str, str]) -> str:
    """``text`` with every moved host path replaced by where the build sees it."""
    for host, inside in sorted(binds.items(), key=lambda kv: -len(kv[0])):
        if host != inside:
            text = text.replace(host, inside)
    return text


def build_argv(
    rootfs: Path,
    tmp: Path,
    pip_dir: Path,
    binds: list[tuple[str, str]],
    pip_cache: Path,
    user: HostUser | None,
) -> list[str]:
    """The bubblewrap command line of a build, dropping to ``user`` first when there is one."""
    bwrap = shutil.which("bwrap") or "bwrap"
    argv = [bwrap, "--unshare-all", "--share-net", "--unshare-user", "--uid", "0", "--gid", "0"]
    argv += ["--cap-drop", "ALL"]
    if bwrap_version(bwrap) >= (0, 8):
        argv.append("--disable-userns")
    argv += ["--die-with-parent", "--new-session"]
    argv += ["--ro-bind", str(rootfs / "usr"), "/usr", "--ro-bind", str(rootfs / "etc"), "/etc"]
    for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        target = rootfs / link
        if target.is_symlink():
            argv += ["--symlink", os.readlink(target), f"/{link}"]
    for name in ("resolv.conf", "hosts"):  # name resolution as on this machine, for the index
        if Path("/etc", name).exists() and (rootfs / "etc" / name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for source, inside in binds:
        argv += ["--ro-bind", source, inside]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    argv += ["--bind", str(tmp / "home"), "/root", "--bind", str(tmp / "testbed"), "/testbed"]
    # pip's download cache (this environment's own) outlives the build: a rebuild downloads nothing twice.
    argv += ["--bind", str(pip_cache), "/root/.cache/pip"]
    argv += ["--bind", str(tmp / "venv"), VENV, "--bind", str(tmp / "out"), OUT]
    argv += ["--ro-bind", str(pip_dir), f"{BOOTSTRAP}/pip"]
    argv += ["--chdir", "/testbed", "--clearenv"]
    return [*user.drop_argv(), *argv] if user is not None else argv
