"""The local sandbox's ``/testbed`` as an overlay: nothing copied when an episode starts or resets.

Copying a repository per episode costs seconds on a large one (Django's 6,700 files: 1.8-15 s on a
busy machine). Instead, when swe-srl runs as root with an unprivileged sandbox account (the normal
case, :mod:`swe_srl.sandbox.identity`), the harness mounts an overlay in the host's mount namespace
and bubblewrap binds it at ``/testbed`` like any workspace:

- **lower**: a snapshot of the cached base repository, ``.git`` included and its hooks dropped,
  made once per base repository under ``<cache>/lower`` and given to the sandbox account (so root
  inside can change any file: the overlay shows the lower layer's owners). That directory is
  root's and mode 0700: no process of the account can reach the snapshot by any path, no sandbox
  has it bound, and an overlay never writes its lower layer. The base repository itself stays
  root's and untouched;
- **upper** and **work**: this episode's changes, beside the workspace, never bound anywhere;
- ``reset()`` unmounts, moves the old upper layer away (deleted off the critical path), and mounts
  a fresh one: the tree and ``.git`` are the base again, whatever the episode did, in milliseconds.

The mount is the host's, so the harness reads and writes files (``read_file``, the test log after
every process is killed) on the merged tree as before. It is made with ``nosuid,nodev`` and
``redirect_dir=on`` (renaming a directory works as on any file system; the redirect attributes
are the kernel's own, on an upper layer nothing but the kernel can reach), ``metacopy=off`` and
``index=off``. Mounts a crashed run leaves behind are unmounted by ``swe-srl sandbox gc``, which
also removes snapshots no overlay has used for a week (each use touches ``<cache>/lower/.used/NAME``;
a lock on ``<cache>/lower/.lock`` keeps gc from taking a snapshot a sandbox is about to mount).

bubblewrap's own ``--overlay`` cannot do this here: bubblewrap 0.8 (this machine's) has no such
option, and an overlay mounted inside the sandbox's user namespace shows the root-owned cache as
owned by ``nobody``, unwritable by root inside; it would also vanish with the sandbox's processes,
before the harness reads the test log.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from swe_srl.sandbox.base import SandboxError
from swe_srl.sandbox.identity import HostUser

LOWER_DIRNAME = "lower"
USED_DIRNAME = ".used"  # one empty file per snapshot, touched at each use: its mtime is the last use
_LOCK_NAME = ".lock"
_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2
_OPTIONS = "redirect_dir=on,metacopy=off,index=off"
_UNSAFE_IN_OPTIONS = (",", ":", "\\", "\n")
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class OverlayUnavailable(SandboxError):
    """This machine (or this process) cannot mount the workspace overlay; the copy is used instead."""


def _errno_error(what: str, path: Path) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what} {path}: {os.strerror(code)}")


def _mount_overlay(lower: Path, upper: Path, work: Path, target: Path) -> None:
    paths = (lower, upper, work)
    if any(ch in str(p) for p in paths for ch in _UNSAFE_IN_OPTIONS):
        raise OverlayUnavailable(f"an overlay cannot name these paths in its options: {paths}")
    data = f"lowerdir={lower},upperdir={upper},workdir={work},{_OPTIONS}".encode()
    flags = _MS_NOSUID | _MS_NODEV
    if _libc.mount(b"overlay", str(target).encode(), b"overlay", flags, data) != 0:
        raise OverlayUnavailable(str(_errno_error("mounting the workspace overlay on", target)))


def unmount(target: Path) -> None:
    """Detach the mount at ``target`` (nothing when nothing is mounted there)."""
    if os.path.ismount(target) and _libc.umount2(str(target).encode(), _MNT_DETACH) != 0:
        raise _errno_error("unmounting", target)


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            field = line.split(" ")[4]
            points.append(field.encode().decode("unicode_escape"))  # mountinfo escapes " " as \040
    return points


def unmount_under(root: Path) -> int:
    """Detach every mount at or below ``root``, deepest first; return how many there were."""
    prefix = str(root).rstrip("/")
    found = [p for p in _mount_points() if p == prefix or p.startswith(prefix + "/")]
    for point in sorted(found, key=len, reverse=True):
        with contextlib.suppress(OSError):
            unmount(Path(point))
    return len(found)


def _private_dir(path: Path) -> Path:
    """``path`` as a directory root alone may enter (made, or checked and fixed)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if st.st_uid != 0 or not path.is_dir() or path.is_symlink():
        raise OverlayUnavailable(f"{path} must be a directory of root's; remove it")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


@contextlib.contextmanager
def snapshots_locked(root: Path, *, exclusive: bool):
    """Shared: a sandbox picking (or making) a snapshot; exclusive: gc choosing which to remove."""
    with open(root / _LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def lower_snapshot(base: Path, user: HostUser, cache_root: Path, scratch: Path) -> Path:
    """The account's read-only-by-reach snapshot of the prepared repository ``base`` (made once).

    ``scratch``: a directory the account can reach, for the one sandbox that refreshes the index.
    """
    root = _private_dir(Path(cache_root) / LOWER_DIRNAME)
    final = root / base.name
    with snapshots_locked(root, exclusive=False):
        if not (final / ".git").is_dir():
            _make_snapshot(base, final, user, scratch)
        (root / USED_DIRNAME).mkdir(mode=0o700, exist_ok=True)
        (root / USED_DIRNAME / base.name).touch()  # under the lock: gc sees this use or none of it
    return final


def _make_snapshot(base: Path, final: Path, user: HostUser, scratch: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{base.name}-", dir=final.parent))
    try:
        tree = tmp / "tree"
        subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(tree)], check=True)
        shutil.rmtree(tree / ".git" / "hooks", ignore_errors=True)  # hooks never travel
        (tree / ".git" / "hooks").mkdir()
        user.chown_tree(tree)
        _refresh_index(tree, user, scratch)
        try:
            os.rename(tree, final)
        except OSError:
            if not (final / ".git").is_dir():  # lost a race only if the winner's snapshot is there
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lower_dirs_in_use() -> set[str]:
    """The lower layers of every overlay mounted now (this run's and any other's), as real paths."""
    used: set[str] = set()
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fs_type, _, rest = line.partition(" - ")[2].partition(" ")
            if fs_type != "overlay":
                continue
            options = rest.partition(" ")[2].strip()
            for option in options.split(","):
                if option.startswith("lowerdir="):
                    lowers = option.removeprefix("lowerdir=").split(":")
                    used.update(os.path.realpath(p.encode().decode("unicode_escape")) for p in lowers)
    return used


def take_unused_snapshots(root: Path, unused_for: float, now: float) -> list[tuple[str, float, Path]]:
    """Move aside the snapshots under ``root`` that no overlay has used for ``unused_for`` seconds.

    Returns (name, seconds since last use, where it now lies) for each; the caller removes them.
    A mounted snapshot is never taken, however old its last recorded use.
    """
    taken = []
    with snapshots_locked(root, exclusive=True):
        in_use = lower_dirs_in_use()
        for entry in sorted(root.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir() or os.path.realpath(entry) in in_use:
                continue
            marker = root / USED_DIRNAME / entry.name
            last_use = (marker if marker.exists() else entry).lstat().st_mtime
            if now - last_use < unused_for:
                continue
            trash = root / f".trash-{entry.name}-{time.monotonic_ns()}"
            os.rename(entry, trash)  # gone for every later sandbox at once; removal can take long
            marker.unlink(missing_ok=True)
            taken.append((entry.name, now - last_use, trash))
    return taken


def _refresh_index(tree: Path, user: HostUser, scratch: Path) -> None:
    """Make ``tree``'s git index match its files as every episode will see them.

    git's index keeps each file's inode, times and owner as git last saw them, and ``git diff`` (each
    step) hashes every file whose data differ. The copy gave every file a new inode and ctime, and
    inside a sandbox the files show uid 0: so the index is refreshed once, by git inside a sandbox
    over an overlay of ``tree`` exactly like an episode's, and the result copied back before the
    snapshot is published (nothing may change a lower layer while it is mounted).
    """
    from swe_srl.sandbox.bwrap import bwrap_argv
    from swe_srl.sandbox.gitops import GIT_SAFE_ENV
    from swe_srl.sandbox.shell import BASE_ENV

    work = Path(tempfile.mkdtemp(prefix=".index-", dir=scratch))
    os.chmod(work, 0o711)
    (work / "gitconfig").write_text("")
    overlay = OverlayWorkspace(work, tree, user)
    try:
        argv = bwrap_argv(overlay.merged, work / "gitconfig", {**BASE_ENV, **GIT_SAFE_ENV})
        command = b"git -c safe.directory='*' -c core.hooksPath=/dev/null update-index -q --refresh\n"
        subprocess.run([*user.drop_argv(), *argv], input=command, capture_output=True, timeout=600)
        refreshed = overlay.upper / ".git" / "index"
        if refreshed.is_file() and not refreshed.is_symlink():
            shutil.copyfile(refreshed, tree / ".git" / "index")
            os.chown(tree / ".git" / "index", user.uid, user.gid)
            # Keep the index's own mtime: git rechecks the content of an entry whose file is not older
            # than the index (racy git), and a newer one would hide a same-size edit in that second.
            written = refreshed.stat()
            os.utime(tree / ".git" / "index", ns=(written.st_atime_ns, written.st_mtime_ns))
    except (OSError, subprocess.SubprocessError):
        pass  # only slower: git hashes what it cannot trust
    finally:
        overlay.close()
        shutil.rmtree(work, ignore_errors=True)


class OverlayWorkspace:
    """``root/testbed`` mounted as the overlay of ``lower`` and this episode's ``root/upper``."""

    def __init__(self, root: Path, lower: Path, user: HostUser):
        self.root, self.lower, self.user = root, lower, user
        self.merged = root / "testbed"
        self.merged.mkdir(mode=0o755)
        self._mount_fresh()

    @property
    def upper(self) -> Path:
        return self.root / "upper"

    def _mount_fresh(self) -> None:
        work = self.root / "work"
        self.upper.mkdir(mode=0o755)
        os.chown(self.upper, self.user.uid, self.user.gid)  # the merged root: the account's, as /testbed
        work.mkdir(mode=0o700)
        _mount_overlay(self.lower, self.upper, work, self.merged)

    def reset(self, trash: Path) -> None:
        """Unmount, move this episode's layers into ``trash`` (same file system), mount fresh ones."""
        unmount(self.merged)
        stamp = time.monotonic_ns()
        for name in ("upper", "work"):
            if (self.root / name).exists():
                os.rename(self.root / name, trash / f"{name}.{stamp}")
        self._mount_fresh()

    def close(self) -> None:
        unmount(self.merged)
