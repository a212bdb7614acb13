"""The Ray executor (``--executor ray``): one Ray task per job, across the nodes of a cluster.

Imported only when asked for (Ray is the optional extra ``swe-srl[ray]``). Every node needs the
same swe-srl and Ray versions as the driver (Ray refuses mismatched versions) and the same sandbox
backend. See :mod:`swe_srl.engine.executors` for the contract it shares with the local executor.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from typing import Any

from swe_srl.engine.executors import Cancelled, Lost, Outcome, Started
from swe_srl.engine.jobs import Job, JobResult, NodeSettings, Work, run_on_node
from swe_srl.engine.leases import reap_leases
from swe_srl.engine.node import NodeState
from swe_srl.engine.preflight import PreflightError
from swe_srl.engine.taxonomy import one_line
from swe_srl.records import SweSrlError

BOARD_TIMEOUT = 30.0
SWEEP_TIMEOUT = 120.0


class RunBoard:
    """The run's board (a Ray actor): when and where each job started, by the jobs themselves."""

    def __init__(self) -> None:
        self._started: dict[str, tuple[float, str, int]] = {}

    def start(self, key: str, node: str, pid: int) -> None:
        self._started[key] = (time.monotonic(), node, pid)

    def snapshot(self) -> dict[str, tuple[float, str, int]]:
        now = time.monotonic()
        return {key: (now - began, node, pid) for key, (began, node, pid) in self._started.items()}


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def ray_job(work: Work, job: Job, settings: NodeSettings, board: Any) -> JobResult:
    """The Ray task of one job: announce it on the board, then run it on this node."""
    node = _node_id()
    board.start.remote(job.key, node, os.getpid())
    return run_on_node(work, job, settings, node)


def ray_sweep(run_id: str, dead_owners_only: bool) -> list[str]:
    """Reap the run's leases on this node (all of them at the end of the run)."""
    reaped = reap_leases(run_id, dead_owners_only=dead_owners_only)
    if not dead_owners_only:
        NodeState.of(_node_id()).forget_run(run_id)
    return reaped


@functools.cache
def _remotes() -> tuple[Any, Any, Any]:
    import ray

    return ray.remote(ray_job), ray.remote(ray_sweep), ray.remote(RunBoard)


class RayExecutor:
    """Jobs as Ray tasks (see the module docstring)."""

    name = "ray"

    def __init__(self, address: str | None = None, *, cpus: float = 1.0, memory_bytes: int = 0):
        try:
            import ray
        except ImportError:
            raise SweSrlError("--executor ray needs Ray: pip install 'swe-srl[ray]'") from None
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            try:
                ray.init(address=address or None, log_to_driver=False, configure_logging=False)
            except Exception as err:
                where = f"at {address}" if address else "(RAY_ADDRESS, or a new local instance)"
                raise PreflightError(
                    f"--executor ray: cannot join the Ray cluster {where}: {one_line(err)}"
                ) from None
        self.cpus, self.memory_bytes = cpus, memory_bytes
        job_fn, self._sweep_fn, board_cls = _remotes()
        self._job_fn = job_fn
        # On the driver's node, so it lives as long as the run does; restarted (empty) if it dies.
        here = self._pinned(ray.get_runtime_context().get_node_id(), soft=True)
        self._board = board_cls.options(num_cpus=0, max_restarts=-1, scheduling_strategy=here).remote()
        self._refs: dict[str, Any] = {}  # key -> ObjectRef of the running job
        self._keys: dict[Any, str] = {}
        self._reaps: list[Any] = []

    def _pinned(self, node: str, *, soft: bool = False) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node, soft=soft)

    def nodes(self) -> list[str]:
        """Alive nodes that can run jobs (with CPUs)."""
        return [
            n["NodeID"]
            for n in self._ray.nodes()
            if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0
        ]

    def submit(self, work: Work, job: Job, settings: NodeSettings) -> None:
        strategy = self._pinned(job.node) if job.node else "SPREAD"
        options: dict[str, Any] = {"num_cpus": self.cpus, "scheduling_strategy": strategy, "max_retries": 0}
        if self.memory_bytes:
            options["memory"] = self.memory_bytes
        ref = self._job_fn.options(**options).remote(work, job, settings, self._board)
        self._refs[job.key], self._keys[ref] = ref, job.key

    def poll(self, timeout: float) -> list[Outcome]:
        if not self._keys:
            time.sleep(timeout)
            return []
        ready, _ = self._ray.wait(list(self._keys), num_returns=1, timeout=timeout)
        if ready:
            ready, _ = self._ray.wait(list(self._keys), num_returns=len(self._keys), timeout=0)
        return [self._outcome(ref) for ref in ready]

    def _outcome(self, ref: Any) -> Outcome:
        from ray import exceptions as rex

        key = self._keys.pop(ref)
        self._refs.pop(key, None)
        try:
            return self._ray.get(ref)
        except rex.TaskCancelledError:
            return Cancelled(key)
        except (rex.NodeDiedError, rex.WorkerCrashedError, rex.ObjectLostError, rex.OwnerDiedError) as err:
            return Lost(key, one_line(err).split(". ")[0])
        except rex.RayError as err:  # the node could not run it at all (e.g. swe-srl missing there)
            return JobResult(
                key, cause="environment", error=f"Ray could not run the job: {one_line(err)}"[:2000]
            )

    def started(self) -> dict[str, Started]:
        try:
            snapshot = self._ray.get(self._board.snapshot.remote(), timeout=BOARD_TIMEOUT)
        except Exception:
            return {}  # the board is briefly unreachable: the next tick asks again
        return {key: Started(*value) for key, value in snapshot.items() if key in self._refs}

    def cancel(self, key: str) -> None:
        """Kill the job's worker process (its sandboxes stay behind for :meth:`reap`)."""
        ref = self._refs.get(key)
        if ref is not None:
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)

    def reap(self, node: str, run_id: str) -> None:
        """Reap, on ``node``, what the run's dead workers left (after a cancel)."""
        with contextlib.suppress(Exception):
            self._reaps.append(
                self._sweep_fn.options(num_cpus=0, scheduling_strategy=self._pinned(node)).remote(
                    run_id, True
                )
            )

    def sweep(self, run_id: str) -> list[str]:
        """Reap every lease of the run on every alive node; return what was reaped."""
        refs = list(self._reaps)
        for node in [n["NodeID"] for n in self._ray.nodes() if n.get("Alive")]:
            refs.append(
                self._sweep_fn.options(num_cpus=0, scheduling_strategy=self._pinned(node)).remote(
                    run_id, False
                )
            )
        reaped: list[str] = []
        for ref in refs:
            with contextlib.suppress(Exception):  # a node that died meanwhile: its disk went with it
                reaped += self._ray.get(ref, timeout=SWEEP_TIMEOUT)
        self._reaps.clear()
        return reaped

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ray.kill(self._board)
        if self._owns:
            self._ray.shutdown()
