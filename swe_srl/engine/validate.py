"""``swe-srl tasks validate`` on the run engine: every task's tests, before and after the gold patch.

Each task is one job running :func:`swe_srl.tasks.validate.validate_task` inside its budget on
whichever node the executor picked. A task that could not be validated for infrastructure reasons
(sandbox, timeout, node lost) is reported invalid with the cause as its problem. With ``output`` the
results are appended as JSON lines as they arrive, so an interrupted validation keeps what finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.jobs import Job, JobResult, TaskContext
from swe_srl.engine.loop import EngineSettings, Recorded, run_jobs
from swe_srl.engine.node import BackendReady, OrphansCollected, task_requirements
from swe_srl.engine.preflight import PreflightError, check_engine, check_instances, check_sandbox
from swe_srl.engine.telemetry import write_telemetry
from swe_srl.records import RecordError, Task
from swe_srl.tasks.validate import DEFAULT_TIMEOUT, TaskValidation


@dataclass(frozen=True)
class ValidateWork:
    sandbox: str
    timeout: float
    log_dir: Path | None = None  # each task's test logs (on the node that ran it)

    def __call__(self, task: Task, ctx: TaskContext) -> TaskValidation:
        from swe_srl.tasks.validate import validate_task

        timeout = ctx.budget.clamp(self.timeout) or self.timeout
        with ctx.phase("validate", "sandbox"):
            return validate_task(task, self.sandbox, timeout=timeout, log_dir=self.log_dir)


class ValidationSink:
    def __init__(self, outputs: Sequence[Path], on_result: Callable[[TaskValidation], None] | None):
        self.outputs, self.on_result = outputs, on_result
        self.results: list[TaskValidation] = []

    def record(self, job: Job, result: JobResult) -> Recorded:
        if result.ok:
            validation: TaskValidation = result.value
        else:
            problem = f"infrastructure error ({result.cause}): {result.error}"
            validation = TaskValidation(job.key, False, (problem,), duration=result.timings.total)
        self.results.append(validation)
        for output in self.outputs:
            with output.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(validation.to_dict()) + "\n")
        if self.on_result is not None:
            self.on_result(validation)
        return Recorded(result.cause)


def validate_suite(
    spec: str | Path,
    sandbox_kind: str = "local",
    *,
    instance_ids: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    engine: EngineSettings | None = None,
    outputs: Sequence[Path] = (),
    log_dir: Path | None = None,
    run_dir: Path | None = None,
    on_result: Callable[[TaskValidation], None] | None = None,
) -> list[TaskValidation]:
    """Validate every task of ``spec`` (or only ``instance_ids``); results in suite order.

    Each result is appended to every file of ``outputs`` (JSON lines) as it arrives; ``log_dir``
    keeps the test logs (with the Ray executor, on the node that ran the task); ``run_dir`` gets
    the run's ``telemetry.json``.

    Raises ``PreflightError`` before anything runs for a bad option, and ``RunInterrupted`` (after
    writing what finished) when Ctrl-C stopped the run.
    """
    from swe_srl.tasks.loader import load_tasks

    engine = engine or EngineSettings()
    check_engine(engine)
    try:
        tasks = list(load_tasks(spec))
    except (RecordError, OSError, ValueError) as err:
        raise PreflightError(f"{spec}: {err}") from None
    if instance_ids:
        check_instances(instance_ids, [t.instance_id for t in tasks], str(spec))
        tasks = [t for t in tasks if t.instance_id in set(instance_ids)]
    check_sandbox(sandbox_kind, tasks, here=engine.executor == "local")
    sink = ValidationSink(outputs, on_result)

    def start(nodes: list[str]) -> None:
        for output in outputs:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text("", encoding="utf-8")

    stats = run_jobs(
        [Job(t.instance_id, t, task_requirements(t, sandbox_kind)) for t in tasks],
        ValidateWork(sandbox_kind, timeout, log_dir),
        sink,
        engine,
        requirements=(BackendReady(sandbox_kind), OrphansCollected(engine.gc_older_than)),
        on_start=start,
    )
    if run_dir is not None:
        write_telemetry(run_dir, stats.telemetry)
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run, ", ".join(map(str, outputs)))
    order = {t.instance_id: i for i, t in enumerate(tasks)}
    return sorted(sink.results, key=lambda v: order.get(v.instance_id, len(order)))
