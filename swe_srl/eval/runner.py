"""``swe-srl eval``: run a policy on every task of a suite, grade each patch, write the run files.

Output directory:

- ``run.json``: the run's identity and settings (``swe_srl.engine.runfolder``): a rerun with other
  options is refused instead of mixing results;
- ``results.jsonl``: one graded task per line, appended by the driver as tasks finish (``results.py``:
  crash-safe); a rerun skips the tasks already there, so every task is reported exactly once (with
  ``retry_errors`` a rerun runs the infrastructure errors again; their newest line wins);
- ``trajectories/<instance>.traj.json``: the normalized trajectory of each episode;
- ``logs/<instance>/test_output.txt``: the test log of each graded task (the result's ``log``);
- ``predictions.jsonl``: swebench's predictions format, rewritten from the results at the end;
- ``report.json``: resolve rate over the judged tasks, 95% Wilson interval, infrastructure errors
  by cause, per-task status (``report.py``); ``telemetry.json``: throughput (``swe_srl.engine``).

Settings: ``e2e`` runs the agent loop in ``SweEnv``; ``oracle`` (``oracle.py``) shows the model the
files the gold patch edits and grades its single answer. Tasks run on the run engine
(``swe_srl.engine``: local threads or a Ray cluster), each inside its wall budget. A task that cannot
be judged is recorded with status ``error`` and its cause, and the run goes on.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.context import DEFAULT_CONTEXT, ContextConfig
from swe_srl.engine.attempt import AttemptOutcome, AttemptSettings, play_and_grade
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
    images_of,
    require,
)
from swe_srl.engine.runfolder import check_run_folder, context_identity, open_run_folder, suite_digest
from swe_srl.engine.taxonomy import is_infrastructure_error
from swe_srl.engine.telemetry import write_telemetry
from swe_srl.eval.report import RunReport, build_report, write_json_atomic, write_predictions
from swe_srl.eval.results import ResultsLog
from swe_srl.policy import PolicyOptions, PolicySource, open_policy_source
from swe_srl.records import EvalResult, RecordError, Task
from swe_srl.tasks.loader import read_tasks

SETTINGS = ("e2e", "oracle")
RUN_FILES = ("results.jsonl", "predictions.jsonl", "report.json", "telemetry.json", "trajectories", "logs")

TaskOutcome = AttemptOutcome  # what one task produced: its result and (when it ran) its trajectory


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
    retry_errors: bool = False  # rerun the tasks recorded as infrastructure errors
    engine: EngineSettings = field(default_factory=EngineSettings)
    force_new: bool = False  # start over in ``out`` even if it holds a different run
    context: ContextConfig = DEFAULT_CONTEXT  # what a model's prompt shows (as its training data did)
    max_in_flight: int | None = None  # model requests at once (None: by server kind); not in identity

    def identity(self, digest: str) -> dict[str, object]:
        """What must match for a rerun to resume this run (``run.json``)."""
        return {
            "command": "eval", "tasks": self.tasks, "suite_digest": digest, "policy": self.policy,
            "setting": self.setting, "max_steps": self.max_steps, "max_tokens": self.max_tokens,
            "time_limit": self.time_limit, **context_identity(self.context),
        }  # fmt: skip

    def meta(self) -> dict[str, str]:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("out", "engine")}
        data.update(executor=self.engine.executor, task_budget=self.engine.task_budget)
        return {k: str(v) for k, v in data.items()}

    def attempt(self) -> AttemptSettings:
        return AttemptSettings(
            self.sandbox, self.max_steps, self.time_limit, test_timeout=self.test_timeout, keep_log=True
        )


@dataclass(frozen=True)
class EvalWork:
    """The work of one eval task, run on whichever node the executor picked."""

    config: EvalConfig
    source: PolicySource

    def __call__(self, task: Task, ctx: TaskContext) -> AttemptOutcome:
        task = _with_local_image(task, self.config)
        with ctx.phase("policy", "model_server"):
            policy = self.source.for_task(task)
        if self.config.setting == "oracle":
            from swe_srl.eval.oracle import run_oracle

            return run_oracle(task, policy, self.config.attempt(), ctx)
        outcome = play_and_grade(task, policy, self.config.attempt(), ctx)
        assert outcome.trajectory is not None
        outcome.trajectory.metadata.update({"policy": self.config.policy, "setting": "e2e"})
        return outcome


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


ProgressHook = Callable[[EvalResult], None]


class EvalSink:
    """The driver's side: trajectories and ``results.jsonl`` written as tasks finish."""

    def __init__(self, out: Path, log: ResultsLog, done: dict[str, EvalResult], hooks: list[ProgressHook]):
        self.out, self.log, self.done, self.hooks = out, log, done, hooks

    def record(self, job: Job, result: JobResult) -> Recorded:
        if result.ok:
            outcome: AttemptOutcome = result.value
        else:
            reason, duration = result.error, result.timings.total
            outcome = AttemptOutcome(
                EvalResult(job.key, "error", False, reason, duration=duration, cause=result.cause)
            )
        recorded = self._write(outcome)
        self.done[recorded.instance_id] = recorded
        for hook in self.hooks:
            hook(recorded)
        return Recorded(recorded.cause if recorded.status == "error" else "")

    def _write(self, outcome: AttemptOutcome) -> EvalResult:
        """The test log and trajectory, then the result (a file that fails to write loses nothing)."""
        result = outcome.result
        if outcome.test_log:
            from swe_srl.eval.grader import safe_name

            relative = Path("logs") / safe_name(result.instance_id) / "test_output.txt"
            try:
                (self.out / relative).parent.mkdir(parents=True, exist_ok=True)
                (self.out / relative).write_text(outcome.test_log, encoding="utf-8", errors="replace")
                result = dataclasses.replace(result, log=str(relative))
            except OSError as err:
                result = dataclasses.replace(
                    result, reason=f"{result.reason} (log not written: {err})".strip()
                )
        if outcome.trajectory is not None:
            from swe_srl.trajectories.io import safe_file_name, write_trajectory

            path = self.out / "trajectories" / f"{safe_file_name(result.instance_id)}.traj.json"
            try:
                write_trajectory(outcome.trajectory, path)
            except Exception as err:
                result = dataclasses.replace(
                    result, reason=f"{result.reason} (trajectory not written: {err})".strip()
                )
        self.log.append(result)
        return result


@dataclass(frozen=True)
class _Plan:
    tasks: list[Task]
    broken: list[EvalResult]
    digest: str


def _plan(config: EvalConfig) -> _Plan:
    """The suite's tasks to run and its malformed rows; every option checked (nothing written)."""
    require(config.setting in SETTINGS, f"--setting {config.setting}: expected one of {', '.join(SETTINGS)}")
    check_engine(config.engine)
    try:
        load = read_tasks(config.tasks)
    except (RecordError, OSError) as err:
        raise PreflightError(f"--tasks {config.tasks}: {err}") from None
    tasks = list(load.tasks)
    broken = [
        EvalResult(e.key, "error", False, reason=str(e.error), cause="environment") for e in load.errors
    ]
    digest = suite_digest(tasks, [r.instance_id for r in broken])
    if config.instances:
        check_instances(
            config.instances, [t.instance_id for t in tasks] + [r.instance_id for r in broken], config.tasks
        )
        wanted = set(config.instances)
        tasks = [t for t in tasks if t.instance_id in wanted]
        broken = [r for r in broken if r.instance_id in wanted]
    check_sandbox(config.sandbox, tasks, here=config.engine.executor == "local")
    check_run_folder(config.out, config.identity(digest), force_new=config.force_new)
    return _Plan(tasks, broken, digest)


def _requirements(config: EvalConfig, tasks: list[Task]) -> tuple:
    images, needs_base = images_of([_image_only(t, config) for t in tasks])
    return (
        BackendReady(config.sandbox, images, needs_base),
        OrphansCollected(config.engine.gc_older_than, docker=config.sandbox == "docker"),
    )


def _image_only(task: Task, config: EvalConfig) -> Task:
    if config.sandbox != "docker" or task.image:
        return task
    from swe_srl.eval.images import suite_name, with_image

    return with_image(task, suite_name(config.tasks))


def run_eval(
    config: EvalConfig, on_result: ProgressHook | None = None, *, show_progress: bool = False
) -> RunReport:
    """Evaluate the suite (resuming a previous run in ``config.out``) and write every run file.

    Raises :class:`~swe_srl.engine.preflight.PreflightError` before anything runs when an option
    cannot work, and :class:`~swe_srl.engine.interrupt.RunInterrupted` after writing the run files
    when Ctrl-C stopped the run.
    """
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, workers=config.workers))
    plan = _plan(config)
    out = Path(config.out)
    options = PolicyOptions(
        max_tokens=config.max_tokens, context=config.context, max_concurrency=config.max_in_flight
    )
    with open_policy_source(config.policy, options) as source:
        check_policy(source)
        log = ResultsLog(out / "results.jsonl")
        done = log.load() if out.exists() and not config.force_new else {}
        if config.retry_errors:
            done = {i: r for i, r in done.items() if not is_infrastructure_error(r)}
        todo = [t for t in plan.tasks if t.instance_id not in done]

        def start(nodes: list[str]) -> None:  # the executor is up: only now is anything written
            open_run_folder(out, config.identity(plan.digest), config.meta(), force_new=config.force_new,
                            run_files=RUN_FILES)  # fmt: skip
            for result in plan.broken:
                if result.instance_id not in done:
                    log.append(result)
                    done[result.instance_id] = result

        with _progress(show_progress, len(todo)) as advance:
            hooks = [advance] + ([on_result] if on_result else [])
            stats = run_jobs(
                [Job(t.instance_id, t, task_requirements(t, config.sandbox)) for t in todo],
                EvalWork(config, source),
                EvalSink(out, log, done, hooks),
                config.engine,
                requirements=_requirements(config, todo),
                on_start=start,
            )
    selected = {t.instance_id for t in plan.tasks} | {r.instance_id for r in plan.broken}
    results = [r for i, r in done.items() if i in selected]
    write_predictions(out / "predictions.jsonl", results, model_name=config.policy)
    meta = {**config.meta(), "wall_seconds_this_run": f"{stats.telemetry.get('wall_seconds', 0):.1f}"}
    if stats.interrupted:
        meta["interrupted"] = f"{stats.not_run} task(s) not run"
    report = build_report(results, meta)
    write_json_atomic(out / "report.json", report.to_dict())
    write_telemetry(out, stats.telemetry)
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run, str(out))
    return report


class _progress:
    """A rich progress bar over finished tasks; off a terminal (a batch job's log file), one line per
    finished task on stderr instead; a no-op when disabled."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self._bar = enabled, total, None
        self._lines, self._done, self._began = False, 0, time.monotonic()

    def __enter__(self) -> Callable[[EvalResult], None]:
        if not self.enabled:
            return self.advance
        from rich.console import Console

        if not Console(stderr=True).is_terminal:
            self._lines = True
            return self.advance
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
        elif self._lines:
            self._done += 1
            elapsed = int(time.monotonic() - self._began)
            clock = f"{elapsed // 3600}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
            print(f"eval {self._done}/{self.total} {clock} {result.instance_id}: {result.status}",
                  file=sys.stderr, flush=True)  # fmt: skip

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
