"""Expert trajectory generation by rejection sampling (``swe-srl rollout``), on the run engine.

For every task of a suite the policy gets up to ``attempts`` episodes in ``SweEnv``; each final
patch is graded in a fresh sandbox, and the first attempt that resolves the task ends that task's
sampling (each attempt is one job; the next is scheduled when the previous did not resolve). Only
verified trajectories are kept (``keep="resolved"``) unless ``keep="all"`` asks for the failed
attempts too (written with ``resolved: false`` and reward 0). An attempt that failed for
infrastructure reasons (``swe_srl.engine.taxonomy``) is masked: recorded with its cause, never kept
or scored; ``retry_errors`` runs such attempts again.

Output directory (itself a trajectory collection, so the run's own records do not end in ``.json``):

- ``<instance>.traj.json``: the kept resolved trajectory of each task (normalized format);
  failed attempts kept with ``keep="all"`` are ``<instance>.attempt<k>.traj.json``;
- ``rollout.log``: one (JSON lines) :class:`AttemptRecord` per finished attempt, appended by the
  driver as attempts end. A rerun skips every attempt recorded and every task already resolved;
- ``rollout.run`` and ``rollout.telemetry``: the run's identity and telemetry (JSON).

The expert (``expert`` / ``expert:N``, :mod:`swe_srl.policy.expert`) plays its seeded variant
``N + k`` at attempt ``k`` so retries are not identical; other policies come from the run's source.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from swe_srl.context import DEFAULT_CONTEXT, ContextConfig
from swe_srl.engine.attempt import AttemptSettings, play_and_grade
from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.jobs import Job, JobResult, TaskContext
from swe_srl.engine.loop import EngineSettings, Recorded, run_jobs
from swe_srl.engine.node import BackendReady, OrphansCollected, task_requirements
from swe_srl.engine.preflight import (
    PreflightError,
    check_engine,
    check_instances,
    check_policy,
    check_sandbox,
    require,
)
from swe_srl.engine.runfolder import (
    check_run_folder,
    context_identity,
    open_run_folder,
    suite_digest,
    task_fingerprint,
)
from swe_srl.engine.taxonomy import is_infrastructure_error
from swe_srl.engine.telemetry import write_telemetry
from swe_srl.policy import PolicyOptions, PolicySource, open_policy_source
from swe_srl.records import RecordError, Task

KEEP_MODES = ("resolved", "all")
# JSON lines, but not named *.jsonl: trajectory readers take every .json/.jsonl file of a directory,
# and the output directory must stay readable as a trajectory collection.
LOG_NAME = "rollout.log"
RUN_NAME = "rollout.run"
TELEMETRY_NAME = "rollout.telemetry"
RUN_FILES = (LOG_NAME, RUN_NAME, TELEMETRY_NAME, "*.traj.json")

__all__ = ["LOG_NAME", "AttemptRecord", "RolloutConfig", "RolloutLog", "run_rollout", "task_fingerprint"]


@dataclass(frozen=True)
class RolloutConfig:
    """Everything one rollout depends on."""

    policy: str
    tasks: str
    out: Path
    attempts: int = 1
    keep: str = "resolved"
    sandbox: str = "local"
    workers: int = 1
    max_steps: int = 50
    instances: tuple[str, ...] = ()
    test_timeout: float = 300.0
    retry_errors: bool = False  # run the attempts recorded as infrastructure errors again
    force_new: bool = False
    engine: EngineSettings = field(default_factory=EngineSettings)
    context: ContextConfig = DEFAULT_CONTEXT  # what a model's prompt shows
    max_in_flight: int | None = None  # model requests at once (None: by server kind); not in identity

    def identity(self, digest: str) -> dict[str, object]:
        return {
            "command": "rollout", "tasks": self.tasks, "suite_digest": digest, "policy": self.policy,
            "max_steps": self.max_steps, **context_identity(self.context),
        }  # fmt: skip


@dataclass(frozen=True)
class AttemptRecord:
    """One finished attempt: a line of ``rollout.log``."""

    instance_id: str
    attempt: int
    status: str  # the grader's status, or "error"
    resolved: bool
    steps: int = 0
    kept: str = ""  # file name of the kept trajectory ("" when rejected)
    duration: float = 0.0
    reason: str = ""
    cause: str = ""  # the infrastructure cause of an ``error`` (a masked attempt)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TaskSummary:
    """The outcome of one task over its attempts."""

    instance_id: str
    attempts: int = 0
    resolved: bool = False
    steps: int = 0  # of the resolved attempt
    kept: list[str] = field(default_factory=list)
    status: str = ""  # last attempt's status
    masked: int = 0  # attempts that failed for infrastructure reasons


@dataclass
class RolloutReport:
    """Per-task outcomes of a rollout (including attempts recorded by earlier runs)."""

    config: RolloutConfig
    tasks: list[TaskSummary]
    new_attempts: int = 0

    @property
    def resolved(self) -> int:
        return sum(t.resolved for t in self.tasks)

    @property
    def kept(self) -> int:
        return sum(len(t.kept) for t in self.tasks)

    def to_dict(self) -> dict:
        return {
            "policy": self.config.policy,
            "tasks": len(self.tasks),
            "resolved": self.resolved,
            "kept": self.kept,
            "masked": sum(t.masked for t in self.tasks),
            "new_attempts": self.new_attempts,
            "per_task": [asdict(t) for t in self.tasks],
        }


class RolloutLog:
    """``rollout.log``: attempts appended one line at a time (thread-safe, crash-tolerant)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> list[AttemptRecord]:
        """Every complete line (the newest line of an attempt wins; a torn line is skipped)."""
        if not self.path.exists():
            return []
        records: dict[tuple[str, int], AttemptRecord] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = AttemptRecord(**json.loads(line))
            except (ValueError, TypeError):  # a line cut short by a crash: that attempt reruns
                continue
            records[(record.instance_id, record.attempt)] = record
        return list(records.values())

    def append(self, record: AttemptRecord) -> None:
        with self._lock, self.path.open("a+b") as handle:
            handle.seek(0, 2)
            if handle.tell() > 0:
                handle.seek(-1, 2)
                if handle.read(1) != b"\n":  # a line cut short by a crash must not swallow this one
                    handle.write(b"\n")
            handle.write((json.dumps(record.to_dict()) + "\n").encode("utf-8"))
            handle.flush()


def trajectory_file(instance_id: str, attempt: int, resolved: bool) -> str:
    from swe_srl.trajectories.io import safe_file_name

    stem = safe_file_name(instance_id)
    return f"{stem}.traj.json" if resolved else f"{stem}.attempt{attempt}.traj.json"


def policy_for_attempt(source: PolicySource, task: Task, attempt: int) -> Any:
    """The policy of attempt ``attempt``: the expert plays variant ``N + attempt``."""
    kind, _, arg = source.spec.partition(":")
    if kind == "expert" and (not arg or arg.isdigit()):
        from swe_srl.policy.expert import ExpertPolicy

        return ExpertPolicy(task, variant=int(arg or 0) + attempt)
    return source.for_task(task)


@dataclass(frozen=True)
class RolloutWork:
    """One attempt at one task, on whichever node the executor picked."""

    config: RolloutConfig
    source: PolicySource

    def __call__(self, payload: tuple[Task, int], ctx: TaskContext):
        task, attempt = payload
        with ctx.phase("policy", "model_server"):
            policy = policy_for_attempt(self.source, task, attempt)
        settings = AttemptSettings(
            self.config.sandbox,
            self.config.max_steps,
            test_timeout=self.config.test_timeout,
            diff_every_step=False,
        )
        outcome = play_and_grade(task, policy, settings, ctx)
        resolved = outcome.result.resolved
        assert outcome.trajectory is not None
        outcome.trajectory.metadata.update(
            {
                "policy": self.config.policy,
                "attempt": attempt,
                "task_fingerprint": task_fingerprint(task),
                # the outcome reward, now that the patch is graded (none for a masked attempt)
                "reward": None if is_infrastructure_error(outcome.result) else (1.0 if resolved else 0.0),
                "trajectory_id": trajectory_file(task.instance_id, attempt, resolved).removesuffix(
                    ".traj.json"
                ),
            }
        )
        return outcome


def _job(task: Task, attempt: int, sandbox: str) -> Job:
    return Job(f"{task.instance_id}#{attempt}", (task, attempt), task_requirements(task, sandbox))


def _next_attempt(records: list[AttemptRecord], attempts: int) -> int | None:
    """The next attempt to run for one task, or None (resolved, or attempts used up)."""
    if any(r.resolved for r in records):
        return None
    finished = {r.attempt for r in records}
    return next((k for k in range(attempts) if k not in finished), None)


class RolloutSink:
    """The driver's side: kept trajectories and ``rollout.log``; schedules each task's next attempt."""

    def __init__(self, config: RolloutConfig, log: RolloutLog, records: dict[str, list[AttemptRecord]], hook):
        self.config, self.log, self.records, self.hook = config, log, records, hook
        self.new = 0

    def record(self, job: Job, result: JobResult) -> Recorded:
        from swe_srl.trajectories.io import write_trajectory

        task, attempt = job.payload
        record = self._attempt_record(task, attempt, result)
        outcome = result.value if result.ok else None
        keep = record.resolved or (self.config.keep == "all" and not is_infrastructure_error(record))
        if outcome is not None and keep:
            name = trajectory_file(task.instance_id, attempt, record.resolved)
            write_trajectory(outcome.trajectory, Path(self.config.out) / name)
            record = replace(record, kept=name)
        self.log.append(record)
        self.new += 1
        done = self.records.setdefault(task.instance_id, [])
        done.append(record)
        if self.hook is not None:
            self.hook(record)
        following = _next_attempt(done, self.config.attempts)
        follow_ups = (_job(task, following, self.config.sandbox),) if following is not None else ()
        return Recorded(record.cause if is_infrastructure_error(record) else "", follow_ups)

    @staticmethod
    def _attempt_record(task: Task, attempt: int, result: JobResult) -> AttemptRecord:
        if not result.ok:
            return AttemptRecord(
                task.instance_id, attempt, "error", False, duration=result.timings.total, reason=result.error,
                cause=result.cause,
            )  # fmt: skip
        graded = result.value.result
        cause = graded.cause if graded.status == "error" else ""
        return AttemptRecord(
            task.instance_id, attempt, graded.status, graded.resolved, steps=graded.steps,
            duration=graded.duration, reason=graded.reason, cause=cause,
        )  # fmt: skip


def _summaries(tasks: list[Task], records: list[AttemptRecord]) -> list[TaskSummary]:
    by_task = {t.instance_id: TaskSummary(t.instance_id) for t in tasks}
    for record in sorted(records, key=lambda r: r.attempt):
        summary = by_task.get(record.instance_id)
        if summary is None:
            continue
        summary.attempts += 1
        summary.status = record.status
        summary.masked += is_infrastructure_error(record)
        if record.kept:
            summary.kept.append(record.kept)
        if record.resolved and not summary.resolved:
            summary.resolved, summary.steps = True, record.steps
    return list(by_task.values())


def _plan(config: RolloutConfig) -> tuple[list[Task], str]:
    """The tasks to sample, every option checked (nothing written)."""
    from swe_srl.tasks import load_tasks

    require(config.keep in KEEP_MODES, f"--keep {config.keep}: expected one of {', '.join(KEEP_MODES)}")
    require(config.attempts >= 1, f"--attempts must be at least 1, got {config.attempts}")
    check_engine(config.engine)
    try:
        tasks = list(load_tasks(config.tasks))
    except (RecordError, OSError, ValueError) as err:
        raise PreflightError(f"--tasks {config.tasks}: {err}") from None
    digest = suite_digest(tasks)
    if config.instances:
        check_instances(config.instances, [t.instance_id for t in tasks], config.tasks)
        tasks = [t for t in tasks if t.instance_id in set(config.instances)]
    check_sandbox(config.sandbox, tasks, here=config.engine.executor == "local")
    check_run_folder(config.out, config.identity(digest), force_new=config.force_new, run_file=RUN_NAME)
    return tasks, digest


def run_rollout(
    config: RolloutConfig, on_attempt=None, *, source: PolicySource | None = None
) -> RolloutReport:
    """Sample, grade and keep trajectories for every task of ``config.tasks`` (resuming ``config.out``).

    ``source`` replaces the policy source ``config.policy`` names (policies built in code).
    """
    tasks, digest = _plan(config)
    out = Path(config.out)
    config = replace(config, out=out, engine=replace(config.engine, workers=config.workers))
    log = RolloutLog(out / LOG_NAME)
    options = PolicyOptions(context=config.context, max_concurrency=config.max_in_flight)
    with source or open_policy_source(config.policy, options) as opened:
        check_policy(opened)
        previous = log.load() if not config.force_new else []
        if config.retry_errors:
            previous = [r for r in previous if not is_infrastructure_error(r)]
        records = {t.instance_id: [r for r in previous if r.instance_id == t.instance_id] for t in tasks}
        jobs = [
            _job(t, k, config.sandbox)
            for t in tasks
            if (k := _next_attempt(records[t.instance_id], config.attempts)) is not None
        ]
        sink = RolloutSink(config, log, records, on_attempt)
        meta = {"workers": config.workers, "sandbox": config.sandbox, "executor": config.engine.executor}

        def start(nodes: list[str]) -> None:
            identity = config.identity(digest)
            open_run_folder(
                out, identity, meta, force_new=config.force_new, run_files=RUN_FILES, run_file=RUN_NAME
            )

        stats = run_jobs(
            jobs, RolloutWork(config, opened), sink, config.engine,
            requirements=(BackendReady(config.sandbox), OrphansCollected(config.engine.gc_older_than)),
            on_start=start,
        )  # fmt: skip
    if out.exists():
        write_telemetry(out, stats.telemetry, name=TELEMETRY_NAME)
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run, str(out))
    all_records = [r for rs in records.values() for r in rs]
    return RolloutReport(config, _summaries(tasks, all_records), new_attempts=sink.new)
