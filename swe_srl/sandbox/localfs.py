"""The local sandbox's workspace as the host sees it: copies, ownership and host-side file access.

The workspace (the sandbox's ``/testbed``) belongs to the sandbox's host user, so root inside can
change every file of it and nothing else. Its ``.git/objects`` files are hardlinks into the cached
base repository where that is safe (they stay root-owned and read-only to the sandbox, so no
episode can rewrite an object another one reads), copies otherwise. ``restore_git_dir`` replaces the
whole ``.git`` with the pristine one; the local backend calls it on ``reset()`` once every process
of the sandbox is dead, so nothing races it.

Host-side reads and writes (``read_file``/``write_file``) walk the path one directory at a time
with ``O_NOFOLLOW``: a process inside that swaps a directory for a symlink between the check and the
open makes the call fail instead of redirecting it, and anything but a regular file (a FIFO renamed
over a file the host reads) is refused without blocking. The host writes only files the sandbox's
user owns: the sandbox can move a root-owned object link anywhere in its tree, and root writing
through it would rewrite the shared cache.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

from swe_srl.sandbox.base import TESTBED, FileTooLarge, SandboxError
from swe_srl.sandbox.identity import HostUser

_GIT_SKIP = ("objects", "hooks")  # never copied as they are: objects are linked, hooks never travel


def _copy_tree(src: Path, dest: Path, user: HostUser | None, *, link: bool = False, skip=()) -> None:
    """Copy ``src`` to the new directory ``dest``, owned by ``user``; ``link``: hardlink the files.

    Linked files keep their owner (root's, in the cache: the sandbox can read them, never write).
    Python rather than ``cp``: a restored ``.git`` is a few dozen entries, and on a busy machine
    spawning ``cp`` costs more than copying them.
    """
    owner = (user.uid, user.gid) if user is not None else None
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        target = dest / rel
        target.mkdir(mode=0o755)
        if owner:
            os.chown(target, *owner)
        for name in filenames:
            source, copy = os.path.join(dirpath, name), target / name
            if os.path.islink(source):
                os.symlink(os.readlink(source), copy)
            elif link:
                os.link(source, copy)
                continue
            else:
                shutil.copy2(source, copy)
            if owner:
                os.chown(copy, *owner, follow_symlinks=False)


def restore_git_dir(base: Path, workspace: Path, user: HostUser | None, trash: Path | None = None) -> None:
    """Replace ``workspace/.git`` by the pristine ``.git`` of ``base`` (no hooks, objects linked).

    Only call it while no process of the sandbox runs: the old ``.git`` may be anything (a symlink, a
    gitfile, a tree the agent rewrote), and it is moved into ``trash`` (a directory on the same
    filesystem, for the caller to delete at leisure) or removed as it lies, never followed.
    """
    git_dir = workspace / ".git"
    if git_dir.is_symlink() or (git_dir.exists() and not git_dir.is_dir()):
        git_dir.unlink()
    elif git_dir.exists() and trash is not None:
        os.rename(git_dir, trash / f"git.{time.monotonic_ns()}")
    elif git_dir.exists():
        remove_tree(git_dir)
    _copy_tree(base / ".git", git_dir, user, skip=_GIT_SKIP)
    (git_dir / "hooks").mkdir()
    if user is not None:
        os.chown(git_dir / "hooks", user.uid, user.gid)
    # Sharing inodes with the cache is safe only when the sandbox cannot own them: a sandbox run by
    # the caller itself (no separate account) gets copies.
    objects, pristine = git_dir / "objects", base / ".git" / "objects"
    try:
        _copy_tree(pristine, objects, user, link=user is not None)
    except OSError:  # the cache on another filesystem: no hardlinks
        remove_tree(objects)
        _copy_tree(pristine, objects, user)


def remove_tree(root: Path) -> str | None:
    """Remove a tree an agent may have made unwritable, unsearchable or deeper than ``PATH_MAX``.

    Nothing in it may run. GNU ``rm`` and ``chmod`` walk any depth with descriptors and never follow
    a link (Python's ``rmtree`` recurses, and a few thousand nested directories overflow it). Never
    raises: returns ``None`` once ``root`` is gone, else why it is still there (``rm``'s first
    complaint), for a caller that reports it (``swe-srl sandbox gc``).

    Both run in a session of their own: a terminal's Ctrl-C goes to its whole foreground process
    group, and the clean-up a run does after it (closing its sandboxes) must not die of it.
    """
    if not os.path.lexists(root):
        return None
    if os.geteuid() != 0:  # root is not stopped by permission bits
        chmod = ["chmod", "-R", "u+rwX", "--", str(root)]
        subprocess.run(chmod, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        argv = ["rm", "-rf", "--one-file-system", "--", str(root)]
        rm = subprocess.run(argv, stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    except OSError as exc:
        return f"cannot run rm: {exc}"
    if not os.path.lexists(root):
        return None
    return (rm.stderr.strip().splitlines() or [f"rm exited {rm.returncode}"])[0][:500]


def copy_repo(base: Path, dest: Path, user: HostUser | None = None) -> None:
    """A fresh workspace: the base's working tree copied, its ``.git`` restored, owned by ``user``.

    Working-tree files are never hardlinked: the sandbox owns them and could rewrite a shared inode
    in place, poisoning the cached base repository for every later episode.
    """
    dest.mkdir(parents=True)
    dest.chmod(stat.S_IMODE(base.stat().st_mode))  # what reset() restores (sandbox.tree)
    entries = [str(p) for p in base.iterdir() if p.name != ".git"]
    if entries:  # one `cp` for a whole tree beats Python on large repositories (and makes reflinks)
        subprocess.run(["cp", "-a", "--reflink=auto", "-t", str(dest), *entries], check=True)
    if user is not None:
        user.chown_tree(dest)
    restore_git_dir(base, dest, user)


# ---------------------------------------------------------------------------------------------
# Host-side file access


def resolve_in_workspace(workspace: Path, path: str, max_links: int = 40) -> Path:
    """Resolve ``path`` (absolute under /testbed, or relative to it) inside ``workspace``.

    Symlinks are followed by hand so that an absolute link to ``/testbed/x`` maps into the
    workspace, while any link leading outside it is refused.
    """
    if "\0" in path:
        raise SandboxError(f"path {path!r} contains a NUL byte")
    if not path.startswith("/"):
        path = f"{TESTBED}/{path}"
    if path != TESTBED and not path.startswith(TESTBED + "/"):
        raise SandboxError(f"path {path} is outside {TESTBED}")
    pending = [p for p in path[len(TESTBED) :].split("/") if p]
    parts: list[str] = []
    links = 0
    while pending:
        name = pending.pop(0)
        if name == ".":
            continue
        if name == "..":
            if not parts:
                raise SandboxError(f"path {path} escapes {TESTBED}")
            parts.pop()
            continue
        candidate = workspace.joinpath(*parts, name)
        try:
            is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            is_link = False
        except OSError as exc:  # a path longer than PATH_MAX
            raise SandboxError(f"cannot resolve {path[:200]!r}: {exc.strerror}") from None
        if is_link:
            links += 1
            if links > max_links:
                raise SandboxError(f"path {path}: too many symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                if target != TESTBED and not target.startswith(TESTBED + "/"):
                    raise SandboxError(f"path {path} leads outside {TESTBED} (symlink to {target})")
                parts = []
                target = target[len(TESTBED) :]
            pending = [p for p in target.split("/") if p] + pending
            continue
        parts.append(name)
    return workspace.joinpath(*parts)


def _open_parent(workspace: Path, target: Path, make: bool, user: HostUser | None) -> int:
    """A descriptor of ``target``'s directory, reached without following any symlink."""
    try:
        parts = target.relative_to(workspace).parts
    except ValueError:
        raise SandboxError(f"{target} is outside the workspace {workspace}") from None
    if not parts:
        raise SandboxError(f"{target} is the workspace itself, not a file")
    fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for name in parts[:-1]:
        fd = _step_into(fd, name, target, make, user)
    return fd


def _step_into(fd: int, name: str, target: Path, make: bool, user: HostUser | None) -> int:
    """The descriptor of directory ``name`` under ``fd``; ``fd`` is closed whatever happens."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        try:
            child = os.open(name, flags, dir_fd=fd)
        except FileNotFoundError:
            if not make:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=fd)
                if user is not None:
                    os.chown(name, user.uid, user.gid, dir_fd=fd, follow_symlinks=False)
            child = os.open(name, flags, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise SandboxError(
                f"{target} resolved outside the workspace (its directory {name!r} is not a directory "
                "any more: a symbolic link appeared while it was being opened)"
            ) from None
        raise
    finally:
        os.close(fd)
    return child


def open_inside(
    workspace: Path, target: Path, flags: int, *, user: HostUser | None = None, make_parents: bool = False
) -> int:
    """Open the regular file ``target`` inside ``workspace`` without following any link; return its fd.

    Never blocks (a FIFO is refused, not opened for I/O). A writer creates a missing file (and, with
    ``make_parents``, missing directories), owned by ``user``; the last component is never followed
    (``OSError`` ELOOP for a symlink).
    """
    parent = _open_parent(workspace, target, make_parents, user)
    writing = bool(flags & (os.O_WRONLY | os.O_RDWR))
    base = flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        with contextlib.suppress(FileNotFoundError):  # name the problem before open() meets it (ENXIO)
            mode = os.stat(target.name, dir_fd=parent, follow_symlinks=False).st_mode
            if not stat.S_ISREG(mode) and not stat.S_ISLNK(mode):  # a link fails below with ELOOP
                raise SandboxError(f"{target} is not a regular file")
        try:
            fd = os.open(target.name, base, dir_fd=parent)
        except FileNotFoundError:
            if not writing:
                raise
            fd = os.open(target.name, base | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=parent)
            if user is not None:
                os.fchown(fd, user.uid, user.gid)
    finally:
        os.close(parent)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise SandboxError(f"{target} is not a regular file")
    if writing and user is not None and st.st_uid != user.uid:
        # Root writes only what the sandbox itself could: a file it does not own is a hard link
        # into the shared base cache (a pack moved over a working-tree file), which root would
        # otherwise rewrite for every later sandbox of the task.
        os.close(fd)
        raise SandboxError(f"{target} is not the sandbox's own file (owner uid {st.st_uid}): not written")
    return fd


def read_regular(fd: int, path: str, max_bytes: int) -> bytes:
    """Up to ``max_bytes`` of an open regular file; :class:`FileTooLarge` past that, nothing more read."""
    size = os.fstat(fd).st_size
    if size > max_bytes:
        raise FileTooLarge(path, size, max_bytes)
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise FileTooLarge(path, total, max_bytes)  # it grew while being read
