"""Free disk space and inodes a sandbox may not eat into, enforced for as long as it lives.

No quota exists for a directory on an arbitrary filesystem, and ``RLIMIT_FSIZE`` bounds one file,
not a loop writing many (or creating millions of empty ones). A :class:`DiskWatch` keeps a reserve
of free space and of free inodes on the filesystem holding the workspace (Docker: the engine's data
root) instead. One watchdog thread polls every live sandbox's watch every
:data:`POLL_SECONDS`, during a command *and* between steps, so a writer left running in the
background is stopped too: when a watch trips, its sandbox's ``stop(note)`` kills every process in
it, and the note reaches the agent with its next observation.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

POLL_SECONDS = 0.1

DISK_RESERVE_NOTE = (
    "\n<the sandbox was filling the disk: free space fell below the {reserve} MiB the sandbox keeps in "
    "reserve; every process in the sandbox was killed and the shell restarted at /testbed. Delete "
    "files to free space.>\n"
)
INODE_RESERVE_NOTE = (
    "\n<the sandbox was creating too many files: free inodes fell below the {reserve} the sandbox keeps "
    "in reserve; every process in the sandbox was killed and the shell restarted at /testbed. Delete "
    "files to free inodes.>\n"
)


class DiskWatch:
    """Trips when the sandbox eats into the reserves of free space or free inodes under ``path``.

    It trips only when free space (inodes) is under its reserve *and* dropped by more than the slack
    since the watch was last armed above the reserve (each command arms it as it starts), or since it
    last tripped: ``rm`` (which frees space) always runs, and a sandbox is stopped at most once per
    slack the disk loses below the reserve, whoever wrote it (no filesystem tells whose writes they
    were). A fast writer overshoots the reserve by at most what it writes in one poll.
    """

    def __init__(
        self,
        path: Path,
        reserve_bytes: int,
        slack_bytes: int = 16 << 20,
        *,
        inode_reserve: int = 0,
        slack_inodes: int = 20_000,
    ):
        self.path = Path(path)
        self.reserve = reserve_bytes
        self.slack = slack_bytes
        self.inode_reserve = inode_reserve
        self.slack_inodes = slack_inodes
        self._start = self._free()

    def _free(self) -> tuple[int, int] | None:
        """(bytes, inodes) an unprivileged writer could still use there (root's reserve not counted)."""
        try:
            stat = os.statvfs(self.path)
        except OSError:
            return None  # the path went away (a sandbox being removed): nothing to watch
        return stat.f_bavail * stat.f_frsize, stat.f_favail if stat.f_files else -1

    def free(self) -> int | None:
        got = self._free()
        return None if got is None else got[0]

    def arm(self) -> None:
        """Called as each command starts: from here on, the sandbox's writes count against it.

        Below a reserve the baseline never follows the disk down, or a writer would be forgiven
        its last step's worth at every step: one that splits its writes over many commands, or
        writes in the background while the agent keeps stepping, would never be stopped.
        """
        free, start = self._free(), self._start
        if free is None or start is None:
            self._start = free
            return
        self._start = (
            free[0] if free[0] >= self.reserve else max(start[0], free[0]),
            free[1] if free[1] >= self.inode_reserve else max(start[1], free[1]),
        )

    def accept(self) -> None:
        """After a trip: the disk stays full until files go, so what is free now is the new baseline."""
        self._start = self._free()

    def check(self) -> str:
        """``""`` while within the reserves, else the note saying which one the sandbox ate into."""
        free, start = self._free(), self._start
        if free is None or start is None:
            return ""
        if self.reserve and free[0] < self.reserve and start[0] - free[0] > self.slack:
            return DISK_RESERVE_NOTE.format(reserve=self.reserve >> 20)
        inodes = free[1] >= 0 and start[1] >= 0  # some filesystems (btrfs) report no inode count
        if (
            self.inode_reserve
            and inodes
            and free[1] < self.inode_reserve
            and start[1] - free[1] > self.slack_inodes
        ):
            return INODE_RESERVE_NOTE.format(reserve=self.inode_reserve)
        return ""


class _Watchdog:
    """One daemon thread polling every registered watch; it lives as long as the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[DiskWatch, weakref.WeakMethod | Callable[[str], None]]] = {}
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add(self, watch: DiskWatch, stop: Callable[[str], None]) -> int:
        """Watch ``watch`` and call ``stop(note)`` when it trips; returns a handle for :meth:`remove`."""
        ref = weakref.WeakMethod(stop) if hasattr(stop, "__self__") else stop
        with self._lock:
            handle = id(watch)
            self._entries[handle] = (watch, ref)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="swe-srl-reserve", daemon=True)
                self._thread.start()
        return handle

    def remove(self, handle: int) -> None:
        with self._lock:
            self._entries.pop(handle, None)

    def _loop(self) -> None:
        while True:
            self._wake.wait(POLL_SECONDS)
            with self._lock:
                entries = list(self._entries.items())
            for handle, (watch, ref) in entries:
                stop = ref() if isinstance(ref, weakref.WeakMethod) else ref
                if stop is None:  # its sandbox was collected without close()
                    self.remove(handle)
                    continue
                note = watch.check()
                if note:
                    watch.accept()  # the disk stays full until files go: do not kill every next step
                    try:
                        stop(note)
                    except Exception:
                        continue


WATCHDOG = _Watchdog()


def disk_watch(path: Path | None, limits) -> DiskWatch | None:
    """The watch for a sandbox writing to the filesystem of ``path`` (``None``: unwatched)."""
    if path is None or not Path(path).exists():
        return None
    if limits.disk_reserve_bytes == 0 and limits.inode_reserve == 0:
        return None
    return DiskWatch(Path(path), limits.disk_reserve_bytes, inode_reserve=limits.inode_reserve)
