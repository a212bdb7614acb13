"""Sandbox leases: what every running task has opened, on the disk of the machine it runs on.

A task writes one small JSON file per sandbox it opens (``<engine dir>/leases/<run id>/``) and
removes them when it ends. A file that outlives its task names exactly what to reap: the task was
killed (cancelled past its budget, its worker or machine died, a second Ctrl-C). The run's final
sweep reaps every lease of the run on every node; a node's readiness reaps the leases of earlier
runs whose owning process is gone. Reaping kills what is left in the sandbox's cgroups and removes
them, its workspace, and its container. Only what the engine itself opened is ever touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from swe_srl.sandbox.limits import pid_alive
from swe_srl.sandbox.localfs import remove_tree
from swe_srl.sandbox.overlay import unmount_under

ENGINE_DIRNAME = "swe-srl-engine"


def engine_root() -> Path:
    """The engine's state on this machine: leases and per-node readiness (under ``$TMPDIR``)."""
    return Path(tempfile.gettempdir()) / ENGINE_DIRNAME


def _lease_root() -> Path:
    return engine_root() / "leases"


def describe(sandbox: Any) -> dict[str, Any]:
    """What identifies ``sandbox`` for reaping: its workspace and cgroups, or its container."""
    container = getattr(sandbox, "container", None)
    if container is not None:
        return {"kind": "docker", "container": container.id}
    jail = getattr(sandbox, "_jail", None)  # the local backend's cgroups (limits.CgroupJail)
    return {
        "kind": "local",
        "root": str(getattr(sandbox, "root", "")),
        "cgroups": [str(d) for d in getattr(jail, "dirs", ())],
    }


def write_lease(run_id: str, key: str, sandbox: Any) -> Path:
    """Record that this process opened ``sandbox`` for task ``key`` of run ``run_id``."""
    directory = _lease_root() / run_id
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "run_id": run_id,
        "key": key,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **describe(sandbox),
    }
    path = directory / f"{os.getpid()}.{uuid.uuid4().hex}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)  # a reaper never reads half a lease
    return path


def drop_lease(path: Path) -> None:
    path.unlink(missing_ok=True)


def _release_cgroups(dirs: list[str], wait: float = 5.0) -> None:
    """Kill what is left in each cgroup and remove it (as ``CgroupJail.release`` does)."""
    pending = [Path(d) for d in dirs]
    deadline = time.monotonic() + wait
    while pending and time.monotonic() < deadline:
        for directory in list(pending):
            with contextlib.suppress(OSError, ValueError):
                for pid in (directory / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                continue  # processes still exiting
            pending.remove(directory)
        if pending:
            time.sleep(0.02)


def _reap(data: dict[str, Any]) -> str:
    if data.get("kind") == "docker":
        import docker

        with contextlib.suppress(Exception):  # already gone, or no engine: nothing of ours runs
            docker.from_env().containers.get(data["container"]).remove(force=True)
        return f"container {str(data['container'])[:12]}"
    _release_cgroups(list(data.get("cgroups", [])))
    root = data.get("root") or ""
    if root:
        unmount_under(Path(root))  # a dead owner's overlay /testbed: never delete through a mount
        remove_tree(Path(root))  # any depth, whatever the agent left unwritable
    return f"workspace {root}"


def reap_leases(run_id: str | None = None, *, dead_owners_only: bool = True) -> list[str]:
    """Reap the sandboxes leased on this machine (by run ``run_id``, or by any run); return them.

    With ``dead_owners_only`` a lease is reaped only when the process that wrote it is gone.
    """
    root = _lease_root()
    runs = [root / run_id] if run_id else sorted(p for p in root.glob("*") if p.is_dir())
    host = socket.gethostname()
    reaped: list[str] = []
    for directory in runs:
        for path in sorted(directory.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # removed meanwhile by its task or another sweep
            if data.get("host") != host or (dead_owners_only and pid_alive(int(data.get("pid", 0)))):
                continue
            reaped.append(_reap(data))
            drop_lease(path)
        with contextlib.suppress(OSError):
            directory.rmdir()  # only once empty
    return reaped
