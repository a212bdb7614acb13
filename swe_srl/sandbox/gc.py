"""Clean-up of sandboxes an interrupted run left behind (what ``swe-srl sandbox gc`` does)."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from swe_srl.sandbox.docker_backend import LABEL, OWNER_LABEL
from swe_srl.sandbox.limits import pid_alive
from swe_srl.sandbox.local import workspace_root
from swe_srl.sandbox.localfs import remove_tree
from swe_srl.sandbox.overlay import LOWER_DIRNAME, take_unused_snapshots, unmount_under
from swe_srl.sandbox.workspace import default_cache_root

SNAPSHOTS_UNUSED_FOR = 7 * 86400.0  # a snapshot costs a copy of its repository to make again


@dataclass(frozen=True)
class Removed:
    """One sandbox that was removed, or that gc tried to remove and could not (``error`` says why)."""

    kind: str  # "container" | "workspace" | "snapshot"
    name: str
    age_seconds: float
    error: str = ""  # empty once it is gone


def _owned_by_live_process(owner: str) -> bool:
    """Whether ``host:pid`` names a process that still runs on this host."""
    host, _, pid = owner.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))


def gc_workspaces(older_than: float, root: Path | None = None, now: float | None = None) -> list[Removed]:
    """Remove local workspaces older than ``older_than`` seconds whose owning process has exited
    (their overlay, if still mounted, unmounted first).

    Workspace directories are named ``<instance>.<pid>.<created>.<random>`` by the local backend.
    Whatever an agent left in them (trees of any depth, unreadable directories) is removed; one that
    cannot be is returned with its ``error`` and the sweep goes on.
    """
    root = root or workspace_root()
    now = time.time() if now is None else now
    removed: list[Removed] = []
    if not root.is_dir():
        return removed
    for entry in sorted(root.iterdir()):
        parts = entry.name.rsplit(".", 3)
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        age = now - int(parts[2])
        if age < older_than or (pid_alive(int(parts[1])) and int(parts[1]) != 0 and age < 86400):
            continue  # still young, or its owner still runs (unless it is a day old)
        unmount_under(entry)  # a crashed run's overlay: never delete through it
        removed.append(Removed("workspace", str(entry), age, remove_tree(entry) or ""))
    return removed


def gc_snapshots(
    unused_for: float = SNAPSHOTS_UNUSED_FOR,
    older_than: float = 3600.0,
    cache_root: Path | None = None,
    now: float | None = None,
) -> list[Removed]:
    """Remove the overlay workspace's lower snapshots (``<cache>/lower``) unused for ``unused_for`` s,
    and what a crashed run left there: half-made snapshots older than ``older_than``, half-removed ones.

    A snapshot an overlay has mounted is kept. Nothing to do where overlays were never used (or this
    process may not read root's snapshot directory).
    """
    root = Path(cache_root or default_cache_root()) / LOWER_DIRNAME
    now = time.time() if now is None else now
    try:
        if not root.is_dir() or not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            return []
        leftovers = [
            (entry.name, now - entry.lstat().st_mtime, entry)
            for entry in sorted(root.iterdir())
            if entry.name.startswith(".trash-")
            or (entry.name.startswith(".tmp-") and now - entry.lstat().st_mtime >= older_than)
        ]
        taken = take_unused_snapshots(root, unused_for, now)
    except OSError as exc:
        return [Removed("snapshot", str(root), 0.0, f"cannot sweep: {exc}")]
    return [Removed("snapshot", str(root / name), age, remove_tree(path) or "") for name, age, path in
            leftovers + taken]  # fmt: skip


def gc_containers(
    older_than: float, client=None, now: float | None = None, instance: str | None = None
) -> list[Removed]:
    """Remove containers labelled as swe-srl sandboxes and created more than ``older_than`` s ago.

    ``instance`` narrows the sweep to one task's sandboxes.
    """
    if client is None:
        import docker

        client = docker.from_env()
    now = time.time() if now is None else now
    removed: list[Removed] = []
    labels = [f"{LABEL}=1"] + ([f"swe-srl.instance={instance}"] if instance else [])
    for container in client.containers.list(all=True, filters={"label": labels}):
        created = container.labels.get("swe-srl.created", "")
        age = now - int(created) if created.isdigit() else float("inf")
        live_owner = _owned_by_live_process(container.labels.get(OWNER_LABEL, ""))
        if age < older_than or (live_owner and age < 86400):
            continue  # still young, or the run that made it is still going (unless it is a day old)
        try:
            container.remove(force=True)
        except Exception:
            continue  # removed concurrently
        removed.append(
            Removed(
                "container", f"{container.short_id} ({container.labels.get('swe-srl.instance', '')})", age
            )
        )
    return removed
