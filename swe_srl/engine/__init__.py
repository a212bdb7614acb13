"""The run engine: one loop for ``eval``, ``rollout``, ``tasks validate``, ``trajectories
replay-check`` and the builds (``images build``, ``envs build``), on this machine or a Ray cluster.

A command describes its work as :class:`Job` s (a unique key and a picklable payload), a
:class:`Work` callable that runs one payload on a node, and a :class:`Sink` that records results on
the driver; :func:`run_jobs` does the rest:

- ``executors`` / ``ray_executor``: local threads, or one Ray task per job with its CPU/memory
  request and SPREAD placement (``--executor local|ray``, ``--ray-address``);
- ``node``: per-node readiness (backend checked, orphans collected, environments prepared: once per
  node under a lock) and a cap on concurrent sandbox starts;
- ``budget`` / ``sandboxes`` / ``leases``: one wall budget per task; every sandbox a task opens is
  leased on its node and reaped when the task is stopped, dies, or the run ends;
- ``taxonomy``: verdicts vs infrastructure errors with a cause (:func:`is_infrastructure_error`);
- ``interrupt``: Ctrl-C drains then cancels, and always reaps; ``preflight`` / ``runfolder``:
  options checked and the output folder's identity kept before anything runs;
- ``telemetry``: ``telemetry.json`` of every run.

Eval and rollout open the run's one :class:`~swe_srl.policy.PolicySource` on the driver (its
``preflight`` before the first task, ``close`` at the end); it travels to the nodes pickled with each
job and ``for_task`` runs there, so a source pickles what its policies need (an endpoint), never what
it holds (a server process). A policy with ``usage()`` reports tokens and generation seconds.

A build on every node (``envs build``) is a :class:`Work` whose payload builds one environment, run
with ``run_jobs(jobs, work, sink, settings, on_every_node=True)``; an environment a task needs
before it runs is a :class:`~swe_srl.engine.node.Requirement` in its job's ``requirements``.
"""

from __future__ import annotations

from swe_srl.engine.jobs import Job, JobResult, TaskContext, Work
from swe_srl.engine.loop import EngineSettings, Recorded, RunStats, Sink, run_jobs
from swe_srl.engine.taxonomy import CAUSES, InfrastructureError, is_infrastructure_error

__all__ = [
    "CAUSES",
    "EngineSettings",
    "InfrastructureError",
    "Job",
    "JobResult",
    "Recorded",
    "RunStats",
    "Sink",
    "TaskContext",
    "Work",
    "is_infrastructure_error",
    "run_jobs",
]
