"""``swe-srl images build`` on the run engine: every task image built on every node.

A Docker image lives in one engine, so with ``--executor ray`` each node builds the suite's images
into its own engine (one job per image and node, pinned there); with the local executor this
machine does. Builds already up to date cost an ``inspect``. The same pattern (``on_every_node``)
serves any build a node needs before it runs tasks (``envs build``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.jobs import Job, JobResult, TaskContext
from swe_srl.engine.loop import EngineSettings, Recorded, run_jobs
from swe_srl.engine.node import BackendReady
from swe_srl.engine.preflight import PreflightError, check_engine, check_instances, check_sandbox
from swe_srl.records import RecordError, Task


@dataclass(frozen=True)
class BuiltImage:
    """One image on one node: ``action`` is built / up-to-date, or ``error`` says why it failed."""

    instance_id: str
    node: str
    image: str = ""
    action: str = ""
    error: str = ""


@dataclass(frozen=True)
class ImageWork:
    suite: str
    force: bool = False

    def __call__(self, task: Task, ctx: TaskContext):
        from swe_srl.eval.images import build_task_image

        with ctx.phase("build", "environment"):
            return build_task_image(task, self.suite, force=self.force)


class _Sink:
    def __init__(self, on_image: Callable[[BuiltImage], None] | None):
        self.images: list[BuiltImage] = []
        self.on_image = on_image

    def record(self, job: Job, result: JobResult) -> Recorded:
        task: Task = job.payload
        node = job.node or result.node
        if result.ok:
            built = BuiltImage(task.instance_id, node, result.value.image, result.value.action)
        else:
            built = BuiltImage(task.instance_id, node, error=f"{result.cause}: {result.error}")
        self.images.append(built)
        if self.on_image is not None:
            self.on_image(built)
        return Recorded(result.cause)


def build_images(
    spec: str,
    *,
    instances: tuple[str, ...] = (),
    force: bool = False,
    engine: EngineSettings | None = None,
    on_image: Callable[[BuiltImage], None] | None = None,
) -> list[BuiltImage]:
    """Build the task images of suite ``spec`` on every node of the executor."""
    from swe_srl.eval.images import suite_name
    from swe_srl.eval.suites import load_suite

    engine = engine or EngineSettings()
    check_engine(engine)
    try:
        load = load_suite(spec)
    except (RecordError, OSError) as err:
        raise PreflightError(f"{spec}: {err}") from None
    if load.errors:
        raise PreflightError(
            f"suite {spec} has malformed rows: {'; '.join(r.reason for r in load.errors[:3])}"
        )
    if instances:
        check_instances(instances, [t.instance_id for t in load.tasks], spec)
    tasks = [t for t in load.tasks if not instances or t.instance_id in instances]
    check_sandbox("docker", here=engine.executor == "local")  # the engine and the base image
    sink = _Sink(on_image)
    jobs = [Job(t.instance_id, t) for t in tasks]
    work = ImageWork(suite_name(spec), force)
    stats = run_jobs(jobs, work, sink, engine, requirements=(BackendReady("docker"),), on_every_node=True)
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run)
    return sink.images


def export_images(spec: str, export: Path, instances: tuple[str, ...] = ()) -> None:
    """Write the suite as a swebench dataset naming its per-task images."""
    from swe_srl.eval.images import suite_name, with_image
    from swe_srl.eval.suites import load_suite
    from swe_srl.eval.swebench_export import export_dataset

    tasks = [t for t in load_suite(spec).tasks if not instances or t.instance_id in instances]
    export_dataset([with_image(t, suite_name(spec)) for t in tasks], export)
