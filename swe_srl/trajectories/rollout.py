"""Expert trajectory generation by rejection sampling (``swe-srl rollout``).

For every task of a suite the policy gets up to ``attempts`` episodes in ``SweEnv``; each final
patch is graded in a fresh sandbox, and the first attempt that resolves the task ends that task's
sampling. Only verified trajectories are kept (``keep="resolved"``) unless ``keep="all"`` asks for
the failed attempts too (they are written with ``resolved: false``).

Output directory:

- ``<instance>.traj.json``: the kept resolved trajectory of each task (normalized format);
  failed attempts kept with ``keep="all"`` are ``<instance>.attempt<k>.traj.json``;
- ``rollout.log``: one (JSON lines) :class:`AttemptRecord` per finished attempt, appended as attempts end.
  A rerun reads it and skips every attempt already recorded and every task already resolved, so
  an interrupted rollout resumes where it stopped.

Policies come from :func:`swe_srl.policy.make_policy`; ``expert`` / ``expert:N`` (the scripted
expert, :mod:`swe_srl.policy.expert`) is built here when the registry does not know it, and attempt
``k`` of the expert plays its seeded variant ``N + k`` so retries are not identical.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import EvalResult, Task, Trajectory

KEEP_MODES = ("resolved", "all")
# JSON lines, but not named *.jsonl: trajectory readers take every .json/.jsonl file of a directory,
# and the output directory must stay readable as a trajectory collection.
LOG_NAME = "rollout.log"


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


@dataclass(frozen=True)
class AttemptRecord:
    """One finished attempt: a line of ``rollout.log``."""

    instance_id: str
    attempt: int
    status: str  # the grader's status, or "error" when the episode itself failed
    resolved: bool
    steps: int = 0
    kept: str = ""  # file name of the kept trajectory ("" when rejected)
    duration: float = 0.0
    reason: str = ""

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
            "new_attempts": self.new_attempts,
            "per_task": [asdict(t) for t in self.tasks],
        }


class RolloutLog:
    """``rollout.log``: attempts appended one line at a time (thread-safe, crash-tolerant)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> list[AttemptRecord]:
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(AttemptRecord(**json.loads(line)))
            except (ValueError, TypeError):  # a line cut short by a crash: that attempt reruns
                continue
        return records

    def append(self, record: AttemptRecord) -> None:
        with self._lock, self.path.open("a+b") as handle:
            handle.seek(0, 2)
            if handle.tell() > 0:
                handle.seek(-1, 2)
                if handle.read(1) != b"\n":  # a line cut short by a crash must not swallow this one
                    handle.write(b"\n")
            handle.write((json.dumps(record.to_dict()) + "\n").encode("utf-8"))
            handle.flush()


def task_fingerprint(task: Task) -> str:
    """A hash of what a task's episode and grade depend on: a kept trajectory records it, so a
    trajectory made for an older version of the task can be told apart."""
    parts = (
        task.problem_statement,
        task.patch,
        task.test_patch,
        task.setup_patch,
        *task.FAIL_TO_PASS,
        "|",
        *task.PASS_TO_PASS,
    )
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def build_policy(spec: str, task: Task, attempt: int = 0):
    """The policy ``spec`` names for ``task``; the expert plays variant ``N + attempt``."""
    kind, _, arg = spec.partition(":")
    if kind == "expert":
        from swe_srl.policy.expert import ExpertPolicy

        return ExpertPolicy(task, variant=(int(arg) if arg else 0) + attempt)
    from swe_srl.policy import make_policy

    return make_policy(spec, task)


def trajectory_file(instance_id: str, attempt: int, resolved: bool) -> str:
    from swe_srl.trajectories.io import safe_file_name

    stem = safe_file_name(instance_id)
    return f"{stem}.traj.json" if resolved else f"{stem}.attempt{attempt}.traj.json"


PolicyFactory = Callable[[Task, int], Any]  # (task, attempt) -> Policy


def run_attempt(
    task: Task, config: RolloutConfig, attempt: int, grader, policy_factory: PolicyFactory | None = None
) -> tuple[AttemptRecord, Trajectory | None]:
    """One episode and its grade; never raises (a failure is an ``error`` record)."""
    from swe_srl.env import SweEnv
    from swe_srl.episode import run_episode

    start = time.monotonic()
    try:
        if policy_factory is not None:
            policy = policy_factory(task, attempt)
        else:
            policy = build_policy(config.policy, task, attempt)
        env = SweEnv(task=task, sandbox=config.sandbox, max_steps=config.max_steps, diff_every_step=False)
        try:
            trajectory = run_episode(env, policy, task)
        finally:
            env.close()
        result: EvalResult = grader.grade(task, trajectory.final_patch)
    except Exception as err:
        reason = traceback.format_exception_only(type(err), err)[-1].strip()
        duration = round(time.monotonic() - start, 3)
        return AttemptRecord(
            task.instance_id, attempt, "error", False, duration=duration, reason=reason
        ), None
    trajectory.resolved = result.resolved
    trajectory.metadata.update(
        {
            "policy": config.policy,
            "attempt": attempt,
            "eval_status": result.status,
            "task_fingerprint": task_fingerprint(task),
            "reward": 1.0 if result.resolved else 0.0,  # the outcome reward, now that the patch is graded
            "trajectory_id": trajectory_file(task.instance_id, attempt, result.resolved).removesuffix(
                ".traj.json"
            ),
        }
    )
    record = AttemptRecord(
        task.instance_id,
        attempt,
        result.status,
        result.resolved,
        steps=len(trajectory.steps),
        duration=round(time.monotonic() - start, 3),
        reason=result.reason,
    )
    return record, trajectory


def _run_task(
    task: Task,
    config: RolloutConfig,
    done: list[AttemptRecord],
    context: tuple[Any, RolloutLog, Callable[[AttemptRecord], None] | None, PolicyFactory | None],
) -> list[AttemptRecord]:
    """The remaining attempts of one task, stopping at the first resolved one."""
    from swe_srl.trajectories.io import write_trajectory

    grader, log, on_attempt, policy_factory = context
    finished = {r.attempt for r in done}
    new: list[AttemptRecord] = []
    for attempt in range(config.attempts):
        if any(r.resolved for r in done + new):
            break
        if attempt in finished:
            continue
        record, trajectory = run_attempt(task, config, attempt, grader, policy_factory)
        if trajectory is not None and (record.resolved or config.keep == "all"):
            name = trajectory_file(task.instance_id, attempt, record.resolved)
            write_trajectory(trajectory, config.out / name)
            record = AttemptRecord(**{**record.to_dict(), "kept": name})
        log.append(record)
        new.append(record)
        if on_attempt is not None:
            on_attempt(record)
    return new


def _summaries(tasks: list[Task], records: list[AttemptRecord]) -> list[TaskSummary]:
    by_task = {t.instance_id: TaskSummary(t.instance_id) for t in tasks}
    for record in sorted(records, key=lambda r: r.attempt):
        summary = by_task.get(record.instance_id)
        if summary is None:
            continue
        summary.attempts += 1
        summary.status = record.status
        if record.kept:
            summary.kept.append(record.kept)
        if record.resolved and not summary.resolved:
            summary.resolved, summary.steps = True, record.steps
    return list(by_task.values())


def _check_spec(spec: str) -> None:
    """Refuse a policy spec of no known kind before any sandbox starts."""
    from swe_srl.policy.registry import KINDS

    kind = spec.partition(":")[0]
    if kind not in (*KINDS, "expert"):
        raise ValueError(
            f"unknown policy spec {spec!r}; kinds: {', '.join(dict.fromkeys((*KINDS, 'expert')))}"
        )


def select_tasks(config: RolloutConfig) -> list[Task]:
    from swe_srl.tasks import load_tasks

    tasks = list(load_tasks(config.tasks))
    if config.instances:
        wanted = set(config.instances)
        missing = wanted - {t.instance_id for t in tasks}
        if missing:
            raise ValueError(f"{config.tasks}: no task with instance_id {', '.join(sorted(missing))}")
        tasks = [t for t in tasks if t.instance_id in wanted]
    return tasks


def run_rollout(
    config: RolloutConfig,
    on_attempt: Callable[[AttemptRecord], None] | None = None,
    *,
    grader=None,
    policy_factory: PolicyFactory | None = None,
) -> RolloutReport:
    """Sample, grade and keep trajectories for every task of ``config.tasks`` (resuming ``config.out``).

    ``policy_factory(task, attempt)`` replaces ``config.policy``'s spec for policies built in code;
    ``grader`` replaces the default ``SandboxGrader(config.sandbox)``.
    """
    if config.keep not in KEEP_MODES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_MODES)}, got {config.keep!r}")
    if config.attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {config.attempts}")
    from swe_srl.eval.grader import SandboxGrader

    if policy_factory is None:
        _check_spec(config.policy)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    config = RolloutConfig(**{**asdict(config), "out": out})
    tasks = select_tasks(config)
    log = RolloutLog(out / LOG_NAME)
    previous = log.load()
    grader = grader or SandboxGrader(config.sandbox, test_timeout=config.test_timeout)
    new: list[AttemptRecord] = []
    context = (grader, log, on_attempt, policy_factory)
    with ThreadPoolExecutor(max(1, config.workers)) as pool:
        futures = [
            pool.submit(
                _run_task, task, config, [r for r in previous if r.instance_id == task.instance_id], context
            )
            for task in tasks
        ]
        for future in as_completed(futures):
            new.extend(future.result())
    return RolloutReport(config, _summaries(tasks, previous + new), new_attempts=len(new))
