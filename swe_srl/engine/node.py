"""Per-node readiness and the cap on concurrent sandbox starts.

A node is one machine of a Ray cluster, or this machine for the local executor. Before a task runs
on a node, its requirements are met there once per run: one builder per node (a file lock in the
node's directory, so the worker processes of one node take turns), a marker per requirement as the
cache, and an in-process set so a worker does not even take the lock twice. The run adds two
requirements to every task: the sandbox backend works, and the orphans of earlier runs are
collected (:func:`swe_srl.engine.leases.reap_leases`, and ``sandbox gc`` by age when asked).
Jobs add their own (:func:`task_requirements`: a task's repository prepared and the environment it
names built, once per node for all the tasks sharing it).

Sandbox starts go through a node-wide pool of ``cap`` slots (lock files): a burst of tasks landing on
one node cannot start more sandboxes at once than its engine handles.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swe_srl.engine.budget import Budget
from swe_srl.engine.leases import engine_root, reap_leases
from swe_srl.engine.taxonomy import InfrastructureError, classify, one_line
from swe_srl.environments.reference import spec_for
from swe_srl.environments.spec import EnvSpec
from swe_srl.records import Task

POLL_SECONDS = 0.05


class Requirement(Protocol):
    """Something a node needs before a task runs there; met once per node and run."""

    @property
    def key(self) -> str: ...

    def ensure(self) -> str:
        """Make it so (raise :class:`InfrastructureError` naming the cause when that fails)."""
        ...


@dataclass(frozen=True)
class BackendReady:
    """The sandbox backend ``kind`` can start sandboxes on this node."""

    kind: str
    images: tuple[str, ...] = ()  # task images a Docker sandbox may use instead of the base image
    needs_base: bool = True

    @property
    def key(self) -> str:
        return f"backend:{self.kind}"

    def ensure(self) -> str:
        from swe_srl.engine.preflight import check_backend

        check_backend(self.kind, self.images, self.needs_base)
        return f"{self.kind} sandbox backend works"


@dataclass(frozen=True)
class OrphansCollected:
    """Sandboxes that earlier runs left on this node are gone.

    Leases of dead processes always; with ``older_than`` also what ``swe-srl sandbox gc
    --older-than`` removes (workspaces, cgroups and, with ``docker``, containers of dead owners).
    """

    older_than: float | None = None
    docker: bool = False

    @property
    def key(self) -> str:
        return "orphans"

    def ensure(self) -> str:
        removed = reap_leases(None, dead_owners_only=True)
        if self.older_than is not None:
            from swe_srl.sandbox.gc import gc_containers, gc_workspaces
            from swe_srl.sandbox.limits import gc_cgroups

            swept = gc_workspaces(self.older_than)
            if self.docker:
                swept += gc_containers(self.older_than)
            removed += [r.name for r in swept if not r.error] + [str(c) for c in gc_cgroups()]
            # One gc cannot remove is reported, not fatal: the node's tasks do not depend on it.
            kept = [f"{r.name}: {r.error}" for r in swept if r.error]
            if kept:
                return f"collected {len(removed)} orphaned sandbox(es); could not remove {'; '.join(kept)}"
        return f"collected {len(removed)} orphaned sandbox(es)"


@dataclass(frozen=True)
class TaskRepoReady:
    """The task's base repository is prepared in this node's cache."""

    task: Task

    @property
    def key(self) -> str:
        return f"repo:{self.task.instance_id}"

    def ensure(self) -> str:
        from swe_srl.sandbox.workspace import prepare_base_repo

        prepare_base_repo(self.task)
        return f"prepared {self.task.instance_id}"


@dataclass(frozen=True)
class EnvironmentReady:
    """The environment tasks name (interpreter, pinned packages; its image with ``docker``) is built
    in this node's cache: once per node for every task that shares it, before the first one starts,
    so a build is neither repeated nor charged to one task's budget. A build that fails is the
    ``environment`` cause of every task needing it."""

    spec: EnvSpec
    docker: bool = False

    @property
    def key(self) -> str:
        return f"env:{self.spec.build_key()}" + (":docker" if self.docker else "")

    def ensure(self) -> str:
        from swe_srl.environments.ensure import ensure_environment

        result = ensure_environment(self.spec, docker=self.docker)
        if not result.ok:
            raise InfrastructureError(
                f"environment {result.name} {result.status}: {result.error}", "environment"
            )
        return f"environment {result.name} {result.status}"


def task_requirements(task: Task, sandbox: str) -> tuple[Requirement, ...]:
    """What ``task`` needs on the node that runs it in a ``sandbox`` sandbox."""
    spec = spec_for(task)
    environment = () if spec is None else (EnvironmentReady(spec, docker=sandbox == "docker"),)
    return (TaskRepoReady(task), *environment)


@contextlib.contextmanager
def _flock(path: Path, budget: Budget | None, what: str, *, exclusive_of: int = 1) -> Iterator[int]:
    """Hold one of ``exclusive_of`` locks named after ``path`` (``path.0``, ``path.1``, ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(exclusive_of):
            handle = os.open(f"{path}.{slot}", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            try:
                yield slot
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                os.close(handle)
            return
        if budget is not None:
            budget.check(what)
        time.sleep(POLL_SECONDS)


class NodeState:
    """One node's readiness cache and start slots, as seen from this process."""

    _nodes: dict[str, NodeState] = {}  # noqa: RUF012 (one per node id in each process)
    _guard = threading.Lock()

    def __init__(self, node_id: str):
        self.node_id = node_id
        self.dir = engine_root() / "nodes" / node_id
        self._done: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, node_id: str) -> NodeState:
        with cls._guard:
            if node_id not in cls._nodes:
                cls._nodes[node_id] = cls(node_id)
            return cls._nodes[node_id]

    def _marker(self, run_id: str, key: str) -> Path:
        return self.dir / "ready" / run_id / hashlib.sha256(key.encode()).hexdigest()[:32]

    def ensure(self, requirements: Sequence[Requirement], run_id: str, budget: Budget) -> list[str]:
        """Meet every requirement not yet met on this node for ``run_id``; return what was done."""
        notes: list[str] = []
        for requirement in requirements:
            key = requirement.key
            if (run_id, key) in self._done:
                continue
            with self._lock, _flock(self.dir / "ready.lock", budget, f"readiness ({key})"):
                marker = self._marker(run_id, key)
                if not marker.exists():
                    notes.append(requirement.ensure())
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.write_text(key, encoding="utf-8")
                self._done.add((run_id, key))
        return notes

    def start_slot(self, cap: int, budget: Budget) -> contextlib.AbstractContextManager[int]:
        """Hold one of the node's ``cap`` sandbox-start slots (waiting within ``budget``)."""
        return _flock(self.dir / "start", budget, "a sandbox start slot", exclusive_of=max(1, cap))

    def forget_run(self, run_id: str) -> None:
        """Drop the run's readiness markers (the run is over)."""
        shutil.rmtree(self.dir / "ready" / run_id, ignore_errors=True)
        self._done = {item for item in self._done if item[0] != run_id}


def ensure_ready(node_id: str, requirements: Sequence[Requirement], run_id: str, budget: Budget) -> list[str]:
    """:meth:`NodeState.ensure` on ``node_id``; a failure is an infrastructure error of the node."""
    try:
        return NodeState.of(node_id).ensure(requirements, run_id, budget)
    except InfrastructureError:
        raise
    except Exception as err:
        cause = classify(err, "environment")
        raise InfrastructureError(f"node {node_id[:12]} not ready: {one_line(err)}", cause) from err
