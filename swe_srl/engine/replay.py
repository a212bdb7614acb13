"""``swe-srl trajectories replay-check`` on the run engine: many trajectories, replayed in parallel.

Each trajectory is one job running :func:`swe_srl.trajectories.replay_check.replay_check` (the
analysis lives with the data) with its step and test timeouts cut to the task's budget. A replay
that fails for infrastructure reasons comes back as a :class:`ReplayFailure` naming the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.jobs import Job, JobResult, TaskContext
from swe_srl.engine.loop import EngineSettings, Recorded, run_jobs
from swe_srl.engine.node import BackendReady, OrphansCollected, task_requirements
from swe_srl.engine.preflight import check_engine, check_sandbox
from swe_srl.records import Task, Trajectory


@dataclass(frozen=True)
class ReplayFailure:
    """A trajectory that could not be replayed: the infrastructure cause and what went wrong."""

    instance_id: str
    cause: str
    error: str


@dataclass(frozen=True)
class ReplayWork:
    sandbox: str
    grade: bool
    step_timeout: float = 120.0
    test_timeout: float = 300.0

    def __call__(self, payload: tuple[Trajectory, Task], ctx: TaskContext):
        from swe_srl.eval.grader import SandboxGrader
        from swe_srl.trajectories.replay_check import replay_check

        trajectory, task = payload
        with ctx.phase("replay", "sandbox"):
            timeout = ctx.budget.clamp(self.test_timeout) or self.test_timeout
            grader = SandboxGrader(self.sandbox, test_timeout=timeout) if self.grade else None
            step_timeout = ctx.budget.clamp(self.step_timeout) or self.step_timeout
            return replay_check(
                trajectory, task, self.sandbox, grade=self.grade, grader=grader, step_timeout=step_timeout
            )


class _Sink:
    def __init__(self, count: int, on_report: Callable[[object], None] | None):
        self.reports: list[object | None] = [None] * count
        self.on_report = on_report

    def record(self, job: Job, result: JobResult) -> Recorded:
        index = int(job.key.split(":", 1)[0])
        trajectory, _ = job.payload
        report = (
            result.value if result.ok else ReplayFailure(trajectory.instance_id, result.cause, result.error)
        )
        self.reports[index] = report
        if self.on_report is not None:
            self.on_report(report)
        return Recorded(result.cause)


def replay_checks(
    pairs: Sequence[tuple[Trajectory, Task]],
    sandbox: str = "local",
    *,
    grade: bool = True,
    engine: EngineSettings | None = None,
    on_report: Callable[[object], None] | None = None,
) -> list:
    """Replay every (trajectory, task) pair; reports (or :class:`ReplayFailure`) in input order."""
    engine = engine or EngineSettings()
    check_engine(engine)
    check_sandbox(sandbox, [task for _, task in pairs], here=engine.executor == "local")
    sink = _Sink(len(pairs), on_report)
    jobs = [
        Job(f"{i}:{traj.instance_id}", (traj, task), task_requirements(task, sandbox))
        for i, (traj, task) in enumerate(pairs)
    ]
    stats = run_jobs(
        jobs,
        ReplayWork(sandbox, grade),
        sink,
        engine,
        requirements=(BackendReady(sandbox), OrphansCollected(engine.gc_older_than)),
    )
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run)
    return [r for r in sink.reports if r is not None]
