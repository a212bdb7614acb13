"""Where jobs run: threads on this machine (``local``) or Ray tasks across a cluster (``ray``).

Both take a job, run :func:`swe_srl.engine.jobs.run_on_node` with it somewhere, and hand back what
came of it: a :class:`JobResult`, :class:`Lost` (the node or worker died, so the job may be tried
again) or :class:`Cancelled`. The driver (:mod:`swe_srl.engine.loop`) alone records results.

The Ray executor gives every job its CPU and memory request and SPREAD placement (or pins it to one
node), with Ray's own retries off: a job lost with its node goes back to the driver's queue, which
bounds the retries and records each key once. A small actor (the run's board) learns when and where
each job started, so the driver can stop a job its budget did not stop (``ray.cancel(force=True)``)
and reap what it left on its node.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass

from swe_srl.engine.jobs import Job, JobResult, NodeSettings, Work, run_on_node
from swe_srl.engine.leases import reap_leases
from swe_srl.engine.node import NodeState
from swe_srl.engine.sandboxes import wait_for_starts
from swe_srl.engine.taxonomy import one_line

LOCAL_NODE = "local"
START_GRACE = 60.0  # the longest the final sweep waits for sandbox starts still under way
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Lost:
    """The job's node or worker process died before it returned (it may be tried again)."""

    key: str
    reason: str


@dataclass(frozen=True)
class Cancelled:
    """The job was cancelled by the driver and returned nothing."""

    key: str


Outcome = JobResult | Lost | Cancelled


@dataclass(frozen=True)
class Started:
    """A running job: seconds since it started, and where."""

    elapsed: float
    node: str
    pid: int


class LocalExecutor:
    """One daemon thread per running job, in this process (a stuck job never blocks exit)."""

    name = "local"

    def __init__(self) -> None:
        self._results: queue.Queue[Outcome] = queue.Queue()
        self._cancel: dict[str, threading.Event] = {}
        self._began: dict[str, float] = {}

    def nodes(self) -> list[str]:
        return [LOCAL_NODE]

    def submit(self, work: Work, job: Job, settings: NodeSettings) -> None:
        cancel = self._cancel[job.key] = threading.Event()

        def target() -> None:
            self._began[job.key] = time.monotonic()
            try:
                result: Outcome = run_on_node(work, job, settings, LOCAL_NODE, cancel)
            except BaseException as err:  # run_on_node never raises; this is a bug, not the model
                result = JobResult(job.key, cause="sandbox", error=one_line(err), node=LOCAL_NODE)
            self._results.put(result)

        threading.Thread(target=target, name=f"job:{job.key}", daemon=True).start()

    def poll(self, timeout: float) -> list[Outcome]:
        try:
            outcomes = [self._results.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self._results.empty():
            outcomes.append(self._results.get_nowait())
        for outcome in outcomes:
            self._cancel.pop(outcome.key, None)
            self._began.pop(outcome.key, None)
        return outcomes

    def started(self) -> dict[str, Started]:
        now = time.monotonic()
        return {
            key: Started(now - began, LOCAL_NODE, os.getpid()) for key, began in list(self._began.items())
        }

    def cancel(self, key: str) -> None:
        """Trip the job's cancel switch: its watchdog closes its sandboxes and the job returns."""
        if key in self._cancel:
            self._cancel[key].set()

    def reap(self, node: str, run_id: str) -> None:
        return None  # a thread cannot be killed: its watchdog already closed its sandboxes

    def sweep(self, run_id: str) -> list[str]:
        # A cancelled job may still be starting a sandbox (its workspace made, no lease yet): let the
        # start finish and close what it made before the leases are swept and the process exits.
        wait_for_starts(START_GRACE)
        reaped = reap_leases(run_id, dead_owners_only=False)
        NodeState.of(LOCAL_NODE).forget_run(run_id)
        return reaped

    def close(self) -> None:
        return None


def open_executor(name: str, *, ray_address: str | None = None, cpus: float = 1.0, memory_bytes: int = 0):
    """The executor ``name`` ("local" or "ray")."""
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        from swe_srl.engine.ray_executor import RayExecutor

        return RayExecutor(ray_address, cpus=cpus, memory_bytes=memory_bytes)
    raise ValueError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")
