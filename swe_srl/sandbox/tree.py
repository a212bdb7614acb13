"""The local workspace's shape, put back on ``reset()`` where git cannot: the host's half of a reset.

Git restores tracked contents and removes the untracked files it sees, but an episode can leave
more than that for the next one: FIFOs and sockets (git never lists them), a directory's permission
bits and extended attributes (a covert channel of any size), a locked workspace root (no shell can
start in it), and trees deeper than ``PATH_MAX`` (git cannot walk them, so its clean fails and
every later reset with it). So before git runs, the host (root, with no process of the sandbox left)
compares the workspace with the base's :class:`TreeShape`: every directory gets the base's mode and
extended attributes back, and every entry the base does not have, or has with another type, is
moved aside into the sandbox's trash (a rename, however deep the tree under it; the trash is
emptied in the background). Files are left to git, which rewrites every tracked file on reset.
The walk costs one ``scandir`` per directory of the base.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_ACL_OR_USER = ("user.", "system.posix_acl_")  # attributes an unprivileged owner can set
_moved = itertools.count()


def _kind(entry: os.DirEntry) -> str:
    """``d`` directory, ``l`` symlink, ``f`` regular file, ``o`` anything else (never a link's target)."""
    if entry.is_symlink():
        return "l"
    if entry.is_dir(follow_symlinks=False):
        return "d"
    return "f" if entry.is_file(follow_symlinks=False) else "o"


def _xattrs(path: Path) -> frozenset[str]:
    with contextlib.suppress(OSError):
        return frozenset(n for n in os.listxattr(path, follow_symlinks=False) if n.startswith(_ACL_OR_USER))
    return frozenset()


@dataclass(frozen=True)
class ShapedDir:
    """One directory of the base: its permission bits, extended attributes and entries (name -> kind)."""

    mode: int
    xattrs: frozenset[str]
    entries: dict[str, str]


@dataclass(frozen=True)
class TreeShape:
    """Every directory of a base working tree (``.git`` aside), parents before children."""

    dirs: dict[str, ShapedDir]  # path relative to the tree ("" for its root) -> directory

    @classmethod
    def of(cls, base: Path) -> TreeShape:
        dirs: dict[str, ShapedDir] = {}
        pending = [""]
        while pending:
            rel = pending.pop()
            path = base / rel
            with os.scandir(path) as listing:
                entries = {e.name: _kind(e) for e in listing if rel or e.name != ".git"}
            dirs[rel] = ShapedDir(stat.S_IMODE(os.lstat(path).st_mode), _xattrs(path), entries)
            pending += [f"{rel}/{name}" if rel else name for name, kind in entries.items() if kind == "d"]
        return cls(dirs)


def restore_shape(shape: TreeShape, workspace: Path, trash: Path) -> None:
    """Give ``workspace`` (its ``.git`` aside) the directories of ``shape``; only while nothing runs in it.

    Entries ``shape`` does not have, or has as another type, are renamed into one new directory in
    ``trash`` (same filesystem; one however many there are, so emptying the trash costs one removal);
    directories get their mode and extended attributes back. Missing entries are git's to restore.
    Nothing here follows a symbolic link: each directory is known to be one by ``lstat`` before it is
    entered, and no process of the sandbox runs to swap it.
    """
    bin_ = trash / f"strays.{next(_moved)}"
    bin_.mkdir(mode=0o700)
    for rel, shaped in shape.dirs.items():
        path = workspace / rel
        try:
            st = os.lstat(path)
        except OSError:
            continue  # gone: git makes it again
        if not stat.S_ISDIR(st.st_mode):
            continue  # its parent's pass moved the impostor aside
        if stat.S_IMODE(st.st_mode) != shaped.mode:
            os.chmod(path, shaped.mode)
        for name in _xattrs(path) - shaped.xattrs:
            with contextlib.suppress(OSError):
                os.removexattr(path, name, follow_symlinks=False)
        with os.scandir(path) as listing:
            strays = [
                e for e in listing if (rel or e.name != ".git") and shaped.entries.get(e.name) != _kind(e)
            ]
        for entry in strays:
            _move_aside(Path(entry.path), entry.is_dir(follow_symlinks=False), bin_)
    with contextlib.suppress(OSError):
        bin_.rmdir()  # nothing was stray


def _move_aside(path: Path, is_dir: bool, bin_: Path) -> None:
    target = bin_ / str(next(_moved))
    try:
        os.rename(path, target)
    except PermissionError:  # unprivileged: moving a directory rewrites its "..", which needs write access
        if not is_dir:
            raise
        os.chmod(path, 0o700)
        os.rename(path, target)
