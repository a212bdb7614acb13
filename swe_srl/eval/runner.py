"""``swe-srl eval``: run a policy on every task of a suite, grade each patch, write the run files.

Output directory:

- ``results.jsonl``: one graded task per line, appended as tasks finish (``results.py``: crash-safe);
  a rerun skips the tasks already there, so every task is reported exactly once (with
  ``retry_errors`` a rerun runs the ``error`` tasks again; their newest line wins);
- ``trajectories/<instance>.traj.json``: the normalized trajectory of each episode;
- ``logs/<instance>/test_output.txt``: the test log of each graded task (the result's ``log``);
- ``predictions.jsonl``: swebench's predictions format, rewritten from the results at the end;
- ``report.json``: resolve rate, 95% Wilson interval, per-task status (``report.py``).

Settings: ``e2e`` runs the agent loop in ``SweEnv``; ``oracle`` (``oracle.py``) shows the model the
files the gold patch edits and grades its single answer. Tasks run on a thread pool (sandboxes are
independent processes or containers). A task that fails for any reason is recorded with status
``error`` and the reason, and the run goes on.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.report import RunReport, build_report, write_json_atomic, write_predictions
from swe_srl.eval.results import ResultsLog
from swe_srl.records import EvalResult, Task, Trajectory
from swe_srl.tasks.loader import TaskLoad, read_tasks

SETTINGS = ("e2e", "oracle")


@dataclass(frozen=True)
class EvalConfig:
    """Everything one evaluation run depends on."""

    tasks: str
    policy: str
    out: Path
    sandbox: str = "local"
    workers: int = 1
    setting: str = "e2e"
    max_steps: int = 50
    max_tokens: int = 2048
    time_limit: float | None = None
    instances: tuple[str, ...] = ()
    test_timeout: float = 300.0
    retry_errors: bool = False  # rerun tasks recorded as ``error`` (engine restarts, a full disk)

    def meta(self) -> dict[str, str]:
        return {k: str(v) for k, v in dataclasses.asdict(self).items() if k not in ("out",)}


@dataclass(frozen=True)
class TaskOutcome:
    result: EvalResult
    trajectory: Trajectory | None = None


def _error(instance_id: str, reason: str, start: float, patch: str = "") -> EvalResult:
    duration = round(time.monotonic() - start, 3)
    return EvalResult(instance_id, "error", False, reason=reason, duration=duration, model_patch=patch)


def run_e2e(task: Task, config: EvalConfig, grader: SandboxGrader) -> TaskOutcome:
    """The agent loop in ``SweEnv``, then a fresh-sandbox grade of the final patch."""
    from swe_srl.env import SweEnv
    from swe_srl.episode import run_episode
    from swe_srl.policy import PolicyOptions, make_policy

    start = time.monotonic()
    policy = make_policy(config.policy, task, PolicyOptions(max_tokens=config.max_tokens))
    env = SweEnv(task=task, sandbox=config.sandbox, max_steps=config.max_steps, max_seconds=config.time_limit)
    try:
        trajectory = run_episode(env, policy, task)
    finally:
        env.close()
    agent_seconds = time.monotonic() - start
    result = grader.grade(task, trajectory.final_patch)
    result = dataclasses.replace(
        result, steps=len(trajectory.steps), duration=round(agent_seconds + result.duration, 3)
    )
    trajectory.resolved = result.resolved
    trajectory.metadata.update({"eval_status": result.status, "policy": config.policy, "setting": "e2e"})
    return TaskOutcome(result, trajectory)


def evaluate_task(task: Task, config: EvalConfig, grader: SandboxGrader) -> TaskOutcome:
    """One task, end to end; never raises (failures become an ``error`` result)."""
    start = time.monotonic()
    try:
        task = _with_local_image(task, config)
        if config.setting == "oracle":
            from swe_srl.eval.oracle import run_oracle

            return run_oracle(task, config, grader)
        return run_e2e(task, config, grader)
    except Exception as err:
        detail = traceback.format_exception_only(type(err), err)[-1].strip()
        return TaskOutcome(_error(task.instance_id, f"{detail}", start))


def _write_trajectory(out: Path, outcome: TaskOutcome) -> None:
    if outcome.trajectory is None:
        return
    from swe_srl.trajectories.io import write_trajectory

    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in outcome.result.instance_id)
    write_trajectory(outcome.trajectory, out / "trajectories" / f"{safe}.traj.json")


ProgressHook = Callable[[EvalResult], None]


def _record(out: Path, log: ResultsLog, outcome: TaskOutcome) -> EvalResult:
    """Write the trajectory, then append the result (a trajectory that fails to write loses nothing)."""
    result = outcome.result
    try:
        _write_trajectory(out, outcome)
    except Exception as err:
        result = dataclasses.replace(
            result, reason=f"{result.reason} (trajectory not written: {err})".strip()
        )
    log.append(result)
    return result


def _select(load: TaskLoad, config: EvalConfig) -> tuple[list[Task], list[EvalResult]]:
    tasks = list(load.tasks)
    broken = [EvalResult(e.key, "error", False, reason=str(e.error)) for e in load.errors]
    if config.instances:
        wanted = set(config.instances)
        known = {t.instance_id for t in tasks} | {r.instance_id for r in broken}
        tasks = [t for t in tasks if t.instance_id in wanted]
        broken = [r for r in broken if r.instance_id in wanted]
        broken += [
            _error(i, "no such instance in the suite", time.monotonic()) for i in sorted(wanted - known)
        ]
    return tasks, broken


def _with_local_image(task: Task, config: EvalConfig) -> Task:
    """For Docker runs, point a task without an image at its per-task image when that is built.

    Only when built: a task that names an image must find it (a missing named image is an error).
    """
    if config.sandbox != "docker" or task.image:
        return task
    from swe_srl.eval.images import image_built, suite_name, with_image
    from swe_srl.sandbox.workspace import base_commit_of

    imaged = with_image(task, suite_name(config.tasks))
    if not image_built(imaged.image):
        return task
    if not task.base_commit:  # a task image holds the base commit; the sandbox needs its hash
        imaged = dataclasses.replace(imaged, base_commit=base_commit_of(task))
    return imaged


def run_eval(
    config: EvalConfig, on_result: ProgressHook | None = None, *, show_progress: bool = False
) -> RunReport:
    """Evaluate the suite (resuming a previous run in ``config.out``) and write every run file."""
    if config.setting not in SETTINGS:
        raise ValueError(f"setting must be one of {', '.join(SETTINGS)}, got {config.setting!r}")
    started = time.monotonic()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    log = ResultsLog(out / "results.jsonl")
    done = log.load()
    tasks, broken = _select(read_tasks(config.tasks), config)
    if config.retry_errors:
        done = {i: r for i, r in done.items() if r.status != "error"}
    for result in broken:
        if result.instance_id not in done:
            log.append(result)
            done[result.instance_id] = result
    todo = [t for t in tasks if t.instance_id not in done]
    grader = SandboxGrader(config.sandbox, test_timeout=config.test_timeout, log_dir=out / "logs")
    with _progress(show_progress, len(todo)) as advance, ThreadPoolExecutor(max(1, config.workers)) as pool:
        futures = {pool.submit(evaluate_task, task, config, grader): task for task in todo}
        for future in as_completed(futures):
            result = _record(out, log, future.result())
            done[result.instance_id] = result
            advance(result)
            if on_result is not None:
                on_result(result)
    selected = {t.instance_id for t in tasks} | {r.instance_id for r in broken}
    results = [r for i, r in done.items() if i in selected]
    write_predictions(out / "predictions.jsonl", results, model_name=config.policy)
    meta = {**config.meta(), "wall_seconds_this_run": f"{time.monotonic() - started:.1f}"}
    report = build_report(results, meta)
    write_json_atomic(out / "report.json", report.to_dict())
    return report


class _progress:
    """A rich progress bar over finished tasks (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self._bar = enabled, total, None

    def __enter__(self) -> Callable[[EvalResult], None]:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]eval"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            self._bar.start()
            self._id = self._bar.add_task("", total=self.total)
        return self.advance

    def advance(self, result: EvalResult) -> None:
        if self._bar is not None:
            self._bar.update(self._id, advance=1, description=f"{result.instance_id}: {result.status}")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
