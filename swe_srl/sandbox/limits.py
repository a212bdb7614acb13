"""Resource limits for the local sandbox: processes, memory, file size and tmpfs size.

An agent's commands are untrusted and a training run lasts days, so a fork bomb, a memory hog or
a command filling the disk must hit a wall inside the sandbox, never the host.

- **Processes and memory** need a cgroup: ``RLIMIT_NPROC`` counts every process of a host user, and
  all sandboxes share one (:mod:`swe_srl.sandbox.identity`), so it cannot bound one sandbox.
  :class:`CgroupJail` makes one cgroup per sandbox (cgroup v1 ``pids`` and ``memory`` hierarchies,
  or a delegated cgroup v2 subtree); the launcher joins it as root, before dropping to the sandbox's
  user and ``exec``-ing bubblewrap, so every process the agent starts is born inside a cgroup whose
  files it cannot write (and no cgroup filesystem is mounted inside, nor can be).
- **File size** (``RLIMIT_FSIZE``) and **open files** (``RLIMIT_NOFILE``) are plain rlimits set
  with ``prlimit``; nothing inside holds ``CAP_SYS_RESOURCE``, so they cannot be raised. Without a
  memory cgroup, ``RLIMIT_AS`` stands in for the memory limit.
- **tmpfs** mounts (``/tmp``, ``$HOME``) get a size, or they would grow into the host's RAM.
- **Disk and inodes**: reserves of free space and free inodes on the workspace's filesystem, kept for
  as long as the sandbox lives (:mod:`swe_srl.sandbox.reserve`).

Where no cgroup can be made (no permission, no controller), :attr:`CgroupJail.enforced` says which
limits are missing so callers can warn; the sandbox still starts.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from swe_srl.records import ExecResult
from swe_srl.sandbox.reserve import DISK_RESERVE_NOTE, INODE_RESERVE_NOTE, DiskWatch, disk_watch

__all__ = [
    "DISK_RESERVE_NOTE",
    "INODE_RESERVE_NOTE",
    "CgroupJail",
    "DiskWatch",
    "PidsWatch",
    "ResourceLimits",
    "disk_watch",
    "run_guarded",
]

CGROUP_DIRNAME = "swe-srl"  # parent of every sandbox's cgroup, in each hierarchy


@dataclass(frozen=True)
class ResourceLimits:
    """Per-sandbox ceilings; the defaults suit SWE-bench-sized repositories and test suites."""

    pids: int = 1024  # processes and threads at once
    memory_bytes: int = 4 << 30
    file_size_bytes: int = 2 << 30  # largest file one process may write (RLIMIT_FSIZE)
    open_files: int = 4096  # RLIMIT_NOFILE
    tmpfs_bytes: int = 1 << 30  # each of /tmp and $HOME inside the sandbox
    disk_reserve_bytes: int = 2 << 30  # free disk the sandbox may not eat into (0: no watch)
    inode_reserve: int = 100_000  # free inodes the sandbox may not eat into (0: no watch)

    def __post_init__(self) -> None:
        for name in ("pids", "memory_bytes", "file_size_bytes", "open_files", "tmpfs_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ResourceLimits.{name} must be positive, got {getattr(self, name)}")
        for name in ("disk_reserve_bytes", "inode_reserve"):
            if getattr(self, name) < 0:
                raise ValueError(f"ResourceLimits.{name} must be >= 0, got {getattr(self, name)}")


def _cgroup_mounts() -> dict[str, Path]:
    """Controller (``pids``, ``memory``; ``""`` for cgroup v2) -> mount point, from mountinfo."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(fields) < 5 or len(extra) < 3:
                continue
            if extra[0] == "cgroup2":
                mounts.setdefault("", Path(fields[4]))
            elif extra[0] == "cgroup":
                for option in extra[2].split(","):
                    if option in ("pids", "memory"):
                        mounts.setdefault(option, Path(fields[4]))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """Controller -> this process's cgroup path in that hierarchy (``""`` for cgroup v2)."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


class CgroupJail:
    """One sandbox's cgroup(s): made on construction, emptied and removed by :meth:`release`."""

    def __init__(self, name: str, limits: ResourceLimits):
        self.name = name
        self.limits = limits
        self.dirs: list[Path] = []
        self.enforced: set[str] = set()  # subset of {"pids", "memory"}
        mounts, own = _cgroup_mounts(), _own_cgroups()
        for controller, setting, value in (
            ("pids", "pids.max", str(limits.pids)),
            ("memory", "memory.limit_in_bytes", str(limits.memory_bytes)),
        ):
            if controller in mounts and controller in own:
                self._make(mounts[controller], own[controller], controller, {setting: value})
        if self.enforced != {"pids", "memory"} and "" in mounts and "" in own:
            settings = {"pids.max": str(limits.pids), "memory.max": str(limits.memory_bytes)}
            self._make(mounts[""], own[""], "v2", settings)

    def _make(self, mount: Path, own: str, controller: str, settings: dict[str, str]) -> None:
        directory = mount / own.lstrip("/") / CGROUP_DIRNAME / self.name
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        applied = {key for key, value in settings.items() if _write(directory / key, value)}
        if not applied:
            with contextlib.suppress(OSError):
                directory.rmdir()
            return
        self.dirs.append(directory)
        self.enforced |= {key.split(".")[0] for key in applied}
        if controller == "memory":  # no swap either, where the kernel accounts it
            _write(directory / "memory.memsw.limit_in_bytes", str(self.limits.memory_bytes))

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the cgroup(s) and under the rlimits (join first, then ``exec``)."""
        rlimits = [f"--fsize={self.limits.file_size_bytes}", f"--nofile={self.limits.open_files}"]
        if "pids" not in self.enforced:
            # RLIMIT_NPROC counts every process of the user, so with a pids cgroup it would only make
            # sandboxes sharing the sandbox account starve each other; without one it is the only bound.
            rlimits.append(f"--nproc={self.limits.pids}")
        if "memory" not in self.enforced:
            rlimits.append(f"--as={self.limits.memory_bytes}")
        prlimit = shutil.which("prlimit")
        if prlimit:
            argv = [prlimit, *rlimits, "--", *argv]
        if not self.dirs:
            return argv
        join = " && ".join(f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))}" for d in self.dirs)
        return [shutil.which("sh") or "/bin/sh", "-c", f'{join} && exec "$@"', "sh", *argv]

    def watch(self) -> PidsWatch:
        return PidsWatch([d / "pids.events" for d in self.dirs])

    def pids(self) -> list[int]:
        """Processes still in the cgroup."""
        found: set[int] = set()
        for directory in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (directory / "cgroup.procs").read_text().split()}
        return sorted(found)

    def release(self, wait: float = 5.0) -> None:
        """Kill whatever is left in the cgroup(s) and remove them; idempotent."""
        deadline = time.monotonic() + wait
        while self.dirs:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            for directory in list(self.dirs):
                with contextlib.suppress(FileNotFoundError):
                    try:
                        directory.rmdir()
                    except OSError:
                        continue  # still populated (processes exiting): try again
                self.dirs.remove(directory)
            if self.dirs and time.monotonic() > deadline:
                return  # `swe-srl sandbox gc` sweeps what is left
            if self.dirs:
                time.sleep(0.01)


PIDS_EXHAUSTED_NOTE = (
    "\n<the command hit the sandbox's process limit ({limit}); every process in the sandbox was killed "
    "and the shell was reset to /testbed>\n"
)


class PidsWatch:
    """Notices when a pids cgroup refused a fork (its ``pids.events`` ``max`` counter rose).

    A fork bomb left running in the background would make every later step fail to fork until
    its timeout; a sandbox that sees this kills everything in it straight away instead.
    """

    def __init__(self, events_files: list[Path]):
        self.files = [f for f in events_files if f.is_file()]
        self._seen = self._count()

    def _count(self) -> int:
        total = 0
        for path in self.files:
            with contextlib.suppress(OSError, ValueError):
                for line in path.read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "max":
                        total += int(value)
        return total

    def tripped(self) -> bool:
        """Whether a fork was refused since the previous call."""
        if not self.files:
            return False
        count = self._count()
        tripped, self._seen = count > self._seen, count
        return tripped


def run_guarded(
    session: Any, watch: PidsWatch | None, limit: int, cmd: str, timeout: float, output_limit: int
) -> ExecResult:
    """Run ``cmd`` in ``session``; when the process ceiling was hit, kill everything in the sandbox.

    Checked before the command (a bomb left in the background may have filled the process table
    since the last step, and the shell could not even fork) and after it. ``session`` is the
    sandbox's :class:`~swe_srl.sandbox.shell.ShellSession`; its reset kills with shell builtins
    only, so it works while a fork bomb holds every process slot.
    """
    note = _kill_on_ceiling(session, watch, limit)
    result: ExecResult = session.run(cmd, timeout, limit=output_limit)
    note = _kill_on_ceiling(session, watch, limit) or note
    return replace(result, output=result.output + note) if note else result


def _kill_on_ceiling(session: Any, watch: PidsWatch | None, limit: int) -> str:
    if watch is None or not watch.tripped():
        return ""
    session.reset_state()
    watch.tripped()  # forks refused while the bomb died are not a new event
    return PIDS_EXHAUSTED_NOTE.format(limit=limit)


def docker_pids_events(container_id: str) -> list[Path]:
    """The ``pids.events`` of a container's cgroup when the engine runs on this machine."""
    mounts = _cgroup_mounts()
    candidates = []
    if "pids" in mounts:  # cgroup v1, cgroupfs driver (and the systemd driver's slice)
        candidates += [
            mounts["pids"] / "docker" / container_id,
            mounts["pids"] / "system.slice" / f"docker-{container_id}.scope",
        ]
    if "" in mounts:  # cgroup v2
        candidates += [
            mounts[""] / "system.slice" / f"docker-{container_id}.scope",
            mounts[""] / "docker" / container_id,
        ]
    return [c / "pids.events" for c in candidates if (c / "pids.events").is_file()]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (one owned by another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_alive(name: str) -> bool:
    """Whether the process named in ``<instance>.<pid>.<created>.<random>`` still runs."""
    parts = name.rsplit(".", 3)
    return len(parts) == 4 and parts[1].isdigit() and pid_alive(int(parts[1]))


def gc_cgroups() -> list[Path]:
    """Remove the empty cgroups of sandboxes whose owning process has exited; return them.

    A live owner's cgroup may be empty for a moment (while its shell restarts), so it is kept.
    """
    removed: list[Path] = []
    mounts, own = _cgroup_mounts(), _own_cgroups()
    for controller, mount in mounts.items():
        parent = mount / own.get(controller, "/").lstrip("/") / CGROUP_DIRNAME
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child.is_dir() and not _owner_alive(child.name):
                with contextlib.suppress(OSError):
                    child.rmdir()  # fails while processes remain
                    removed.append(child)
    return removed
