"""Builds on every node: ``swe-srl images build`` and ``swe-srl envs build``, and the hook under both.

A Docker image or a built environment lives on one machine, so with ``--executor ray`` each node
builds what it needs into its own engine and cache (one job per item and node, pinned there); with
the local executor this machine does. :func:`build_on_every_node` is the hook: a picklable
:class:`~swe_srl.engine.jobs.Work` that builds one item (and is cheap when the item is already
built), the items, and a callback per result. Ctrl-C stops it like any run on the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.jobs import Job, JobResult, TaskContext, Work
from swe_srl.engine.loop import EngineSettings, Recorded, run_jobs
from swe_srl.engine.node import BackendReady, Requirement
from swe_srl.engine.preflight import PreflightError, check_engine, check_instances, check_sandbox
from swe_srl.environments.ensure import EnvBuildResult, ensure_environment, specs_of
from swe_srl.environments.spec import EnvSpec
from swe_srl.records import RecordError, Task

BuildCallback = Callable[[str, str, JobResult], None]  # (item key, node, result)


class _Sink:
    def __init__(self, on_result: BuildCallback | None):
        self.results: list[tuple[str, str, JobResult]] = []
        self.on_result = on_result

    def record(self, job: Job, result: JobResult) -> Recorded:
        key, node = job.key.rsplit("@", 1)[0], job.node or result.node
        self.results.append((key, node, result))
        if self.on_result is not None:
            self.on_result(key, node, result)
        return Recorded(result.cause)


def build_on_every_node(
    items: Sequence[tuple[str, Any]],
    work: Work,
    engine: EngineSettings,
    *,
    requirements: tuple[Requirement, ...] = (),
    on_result: BuildCallback | None = None,
) -> list[tuple[str, str, JobResult]]:
    """Run ``work`` on each ``(key, payload)`` item on every node; (key, node, result) as they end.

    Raises ``RunInterrupted`` (after the callbacks of what finished) when Ctrl-C stopped it.
    """
    check_engine(engine)
    sink = _Sink(on_result)
    jobs = [Job(key, payload) for key, payload in items]
    stats = run_jobs(jobs, work, sink, engine, requirements=requirements, on_every_node=True)
    if stats.interrupted:
        raise RunInterrupted(stats.recorded, stats.not_run)
    return sink.results


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


def _suite_tasks(spec: str, instances: tuple[str, ...]) -> list[Task]:
    from swe_srl.tasks.loader import read_tasks

    try:
        load = read_tasks(spec)
    except (RecordError, OSError) as err:
        raise PreflightError(f"{spec}: {err}") from None
    if load.errors:
        raise PreflightError(
            f"suite {spec} has malformed rows: {'; '.join(str(e.error) for e in load.errors[:3])}"
        )
    if instances:
        check_instances(instances, [t.instance_id for t in load.tasks], spec)
    return [t for t in load.tasks if not instances or t.instance_id in instances]


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

    engine = engine or EngineSettings()
    check_engine(engine)
    tasks = _suite_tasks(spec, instances)
    check_sandbox("docker", here=engine.executor == "local")  # the engine and the base image

    def built(key: str, node: str, result: JobResult) -> BuiltImage:
        if result.ok:
            return BuiltImage(key, node, result.value.image, result.value.action)
        return BuiltImage(key, node, error=f"{result.cause}: {result.error}")

    def show(key: str, node: str, result: JobResult) -> None:
        if on_image is not None:
            on_image(built(key, node, result))

    items = [(t.instance_id, t) for t in tasks]
    work = ImageWork(suite_name(spec), force)
    results = build_on_every_node(items, work, engine, requirements=(BackendReady("docker"),), on_result=show)
    return [built(*r) for r in results]


def export_images(spec: str, export, instances: tuple[str, ...] = ()) -> None:
    """Write the suite as a swebench dataset naming its per-task images."""
    from swe_srl.eval.images import suite_name, with_image
    from swe_srl.eval.swebench_export import export_dataset

    tasks = _suite_tasks(spec, instances)
    export_dataset([with_image(t, suite_name(spec)) for t in tasks], export)


@dataclass(frozen=True)
class EnvironmentWork:
    """Build one environment (and its Docker image with ``docker``) on the node the job is pinned to."""

    docker: bool = False
    force: bool = False

    def __call__(self, payload: tuple[EnvSpec, int], ctx: TaskContext) -> EnvBuildResult:
        spec, tasks = payload
        with ctx.phase("build", "environment"):
            return ensure_environment(spec, docker=self.docker, force=self.force, tasks=tasks)


def build_environments(
    spec: str,
    *,
    instances: tuple[str, ...] = (),
    docker: bool = False,
    force: bool = False,
    engine: EngineSettings | None = None,
    on_result: Callable[[str, EnvBuildResult], None] | None = None,
) -> list[tuple[str, EnvBuildResult]]:
    """Build each environment suite ``spec``'s tasks name, once per node: (node, result) pairs."""
    engine = engine or EngineSettings()
    check_engine(engine)
    specs = specs_of(_suite_tasks(spec, instances))
    if docker:
        check_sandbox("docker", here=engine.executor == "local")

    def built(key: str, node: str, result: JobResult) -> tuple[str, EnvBuildResult]:
        if result.ok:
            return node, result.value
        env, count = next((s, n) for s, n in specs if s.build_key() == key)
        return node, EnvBuildResult(env.name, key, "failed", count, error=f"{result.cause}: {result.error}")

    def show(key: str, node: str, result: JobResult) -> None:
        if on_result is not None:
            on_result(*built(key, node, result))

    items = [(env.build_key(), (env, count)) for env, count in specs]
    requirements = (BackendReady("docker"),) if docker else ()
    work = EnvironmentWork(docker, force)
    results = build_on_every_node(items, work, engine, requirements=requirements, on_result=show)
    return [built(*r) for r in results]
