"""The run loop: schedule jobs on an executor, stream results to one sink, record each key once.

``run_jobs`` keeps at most ``workers`` jobs running, hands every outcome to the run's
:class:`Sink` on the driver (the only writer of the run's files) as it arrives, and schedules the
follow-up jobs a sink asks for (the next rollout attempt). It also

- retries a job lost with its node up to ``node_retries`` times, then records ``node_lost``;
- stops a job its own budget did not stop (``task_budget`` + ``backstop_grace`` after it started):
  cancels it, records ``timeout`` and reaps its node; a late result of a recorded key is dropped;
- handles Ctrl-C (:mod:`swe_srl.engine.interrupt`): after the first, infrastructure errors are not
  recorded (the interrupt itself may have caused them) and the run stops once the running jobs are
  done or ``drain_seconds`` have passed; after the second, everything running is cancelled;
- sweeps the run's leases on every node at the end, however it ends.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from swe_srl.engine.executors import Cancelled, Lost, open_executor
from swe_srl.engine.interrupt import Interrupts
from swe_srl.engine.jobs import Job, JobResult, NodeSettings, Work
from swe_srl.engine.node import Requirement
from swe_srl.engine.telemetry import Telemetry

TICK = 0.2  # seconds between looks at signals, budgets and the board


@dataclass(frozen=True)
class EngineSettings:
    """How a run is executed (the same for every command on the engine)."""

    executor: str = "local"
    ray_address: str | None = None
    workers: int = 1
    task_budget: float | None = 3600.0  # seconds per task: readiness + create + agent + grade + teardown
    task_cpus: float = 1.0  # Ray resource request per task
    task_memory_gb: float = 4.0  # Ray resource request per task (0: none)
    node_retries: int = 2  # tries after the first for a job lost with its node
    start_cap: int = 8  # sandboxes starting at once on one node
    drain_seconds: float = 60.0  # after the first Ctrl-C, running tasks get this long to finish
    backstop_grace: float = 15.0  # past its budget, a task that did not stop itself is cancelled
    gc_older_than: float | None = None  # also run `sandbox gc --older-than` on each node when set


@dataclass(frozen=True)
class Recorded:
    """What a sink did with an outcome: the recorded cause ("" for a verdict) and follow-up jobs."""

    cause: str = ""
    follow_ups: tuple[Job, ...] = ()


class Sink(Protocol):
    """The driver side of a run: records each outcome (exactly once per key)."""

    def record(self, job: Job, result: JobResult) -> Recorded: ...


@dataclass
class RunStats:
    """What one invocation did."""

    run_id: str
    recorded: int = 0
    interrupted: bool = False
    not_run: int = 0
    reaped: list[str] = field(default_factory=list)
    telemetry: dict[str, Any] = field(default_factory=dict)


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class _Run:
    """The state of one ``run_jobs`` call."""

    def __init__(self, work: Work, sink: Sink, settings: EngineSettings, node: NodeSettings, executor: Any):
        self.work, self.sink, self.settings, self.node, self.executor = work, sink, settings, node, executor
        self.pending: deque[Job] = deque()
        self.running: dict[str, Job] = {}
        self.where: dict[str, str] = {}  # key -> node, once known
        self.done: set[str] = set()
        self.unrecorded: set[str] = set()  # ended without a record (cancelled, or failed while draining)
        self.tries: Counter[str] = Counter()
        self.telemetry = Telemetry(executor.name, settings.workers)
        self.stats = RunStats(node.run_id)
        self.drain_until: float | None = None
        self.cancelled = False

    def record(self, job: Job, result: JobResult) -> None:
        if job.key in self.done:
            return  # a late result of a job already recorded (stopped past its budget)
        if self.drain_until is not None and not result.ok:
            self.unrecorded.add(job.key)
            return  # may have been caused by the interrupt: left for the resume
        recorded = self.sink.record(job, result) or Recorded(result.cause)
        self.done.add(job.key)
        self.stats.recorded += 1
        self.telemetry.add(result, recorded.cause)
        if self.drain_until is None:
            self.pending.extend(recorded.follow_ups)

    def submit_more(self) -> None:
        while self.pending and len(self.running) < max(1, self.settings.workers) and self.drain_until is None:
            job = self.pending.popleft()
            if job.key in self.done:
                continue
            self.running[job.key] = job
            self.executor.submit(self.work, job, self.node)

    def handle(self, outcome: JobResult | Lost | Cancelled) -> None:
        job = self.running.pop(outcome.key, None)
        if isinstance(outcome, Cancelled):
            self.unrecorded.add(outcome.key)
            node = self.where.get(outcome.key)
            if node:
                self.executor.reap(node, self.node.run_id)
            return
        if job is None:
            return  # stopped past its budget and recorded already
        if isinstance(outcome, Lost):
            self.tries[job.key] += 1
            retry = job.node is None and self.drain_until is None  # a job pinned to a dead node cannot
            if retry and self.tries[job.key] <= self.settings.node_retries:
                self.telemetry.retried("node_lost")
                self.pending.appendleft(job)
                return
            outcome = JobResult(
                job.key, cause="node_lost", error=f"{outcome.reason} ({self.tries[job.key]} tries)"
            )
        self.record(job, outcome)

    def backstop(self) -> None:
        """Cancel and record the jobs running well past their budget."""
        budget = self.settings.task_budget
        for key, started in self.executor.started().items():
            self.where[key] = started.node
            if (
                budget is None
                or key not in self.running
                or started.elapsed < budget + self.settings.backstop_grace
            ):
                continue
            job = self.running.pop(key)
            self.executor.cancel(key)
            self.executor.reap(started.node, self.node.run_id)
            why = f"task budget of {budget:g}s ran out; the task did not stop and was cancelled"
            self.record(job, JobResult(key, cause="timeout", error=why, node=started.node, pid=started.pid))

    def react(self, interrupts: Interrupts) -> None:
        """Start draining after the first Ctrl-C; cancel after the second or when the drain ends."""
        if interrupts.stopping and self.drain_until is None:
            self.drain_until = time.monotonic() + self.settings.drain_seconds
            self.stats.interrupted = True
            _say(
                f"interrupted: no new tasks; waiting up to {self.settings.drain_seconds:g}s for "
                f"{len(self.running)} running task(s) (Ctrl-C again to stop them now)"
            )
        late = self.drain_until is not None and time.monotonic() > self.drain_until
        if (interrupts.cancelling or late) and not self.cancelled and self.running:
            self.cancelled = True
            _say(f"cancelling {len(self.running)} running task(s) and reaping their sandboxes")
            for key in list(self.running):
                self.executor.cancel(key)

    def loop(self, interrupts: Interrupts) -> None:
        cancelled_at: float | None = None
        while self.running or (self.pending and self.drain_until is None):
            self.react(interrupts)
            self.submit_more()
            for outcome in self.executor.poll(TICK):
                self.handle(outcome)
            self.backstop()
            if self.cancelled:
                cancelled_at = cancelled_at or time.monotonic()
                if time.monotonic() - cancelled_at > self.settings.backstop_grace:
                    break  # stuck threads of the local executor: abandoned, their sandboxes reaped below


def run_jobs(
    jobs: Iterable[Job],
    work: Work,
    sink: Sink,
    settings: EngineSettings,
    *,
    requirements: tuple[Requirement, ...] = (),
    on_every_node: bool = False,
    run_id: str | None = None,
    on_start: Callable[[list[str]], None] | None = None,
) -> RunStats:
    """Run ``jobs`` (each on every node with ``on_every_node``) and record them through ``sink``.

    ``requirements`` are met on each node before its first job; ``on_start`` gets the executor's
    nodes before the first job is submitted.
    """
    node = NodeSettings(
        run_id=run_id or uuid.uuid4().hex[:16],
        task_budget=settings.task_budget,
        start_cap=settings.start_cap,
        requirements=requirements,
    )
    executor = open_executor(
        settings.executor,
        ray_address=settings.ray_address,
        cpus=settings.task_cpus,
        memory_bytes=int(settings.task_memory_gb * (1 << 30)),
    )
    run = _Run(work, sink, settings, node, executor)
    with Interrupts() as interrupts:  # also while sweeping: a Ctrl-C must not cut the reaping short
        try:
            nodes = executor.nodes()
            if on_start is not None:
                on_start(nodes)
            for job in jobs:
                if on_every_node:
                    run.pending.extend(Job(f"{job.key}@{n}", job.payload, job.requirements, n) for n in nodes)
                else:
                    run.pending.append(job)
            run.loop(interrupts)
        finally:
            unfinished = {j.key for j in run.pending} | set(run.running) | run.unrecorded
            run.stats.not_run = len(unfinished - run.done)
            try:
                run.stats.reaped = executor.sweep(node.run_id)
            finally:
                executor.close()
    run.stats.telemetry = run.telemetry.summary()
    return run.stats
