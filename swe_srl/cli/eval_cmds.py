"""CLI commands of the eval area: ``eval`` and ``images build`` (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.engine_options import (
    EXECUTOR,
    FORCE_NEW,
    RAY_ADDRESS,
    TASK_BUDGET,
    TASK_CPUS,
    TASK_MEMORY,
    ExecutorKind,
    engine_settings,
    exit_interrupted,
)
from swe_srl.cli.errors import EXIT_FAILED, fail
from swe_srl.cli.options import (
    INSTANCES,
    LIST_EARLIER,
    MAX_IN_FLIGHT,
    OBS_BUDGET,
    WINDOW,
    SandboxKind,
    context_config,
    instance_ids,
)


def eval_command(
    tasks: str = typer.Option(..., "--tasks", help="Suite name (envs/<suite>) or tasks JSONL file."),
    policy: str = typer.Option(
        ..., "--policy", help="gold | noop | replay:FILE | openai:MODEL@URL | hf:PATH | vllm:PATH"
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (a rerun resumes it)."),
    sandbox: SandboxKind = typer.Option("local", "--sandbox", help="local | docker"),
    workers: int = typer.Option(1, "--workers", min=1, help="Tasks running at once."),
    setting: str = typer.Option("e2e", "--setting", help="e2e (agent loop) | oracle (oracle file edit)"),
    max_steps: int = typer.Option(50, "--max-steps", min=1),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=1),
    time_limit: float = typer.Option(0.0, "--time-limit", help="Seconds per episode (0: none)."),
    instances: list[str] = INSTANCES,
    test_timeout: float = typer.Option(
        300.0, "--test-timeout", help="Seconds the tests may run when grading."
    ),
    retry_errors: bool = typer.Option(
        False, "--retry-errors", help="On a rerun, run the tasks recorded as infrastructure errors again."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
    task_budget: float = TASK_BUDGET,
    task_cpus: float = TASK_CPUS,
    task_memory_gb: float = TASK_MEMORY,
    force_new: bool = FORCE_NEW,
    window: int = WINDOW,
    obs_budget: int = OBS_BUDGET,
    list_earlier: bool = LIST_EARLIER,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> None:
    """Run a policy on a task suite, grade every patch, and report the resolve rate."""
    from swe_srl.console import output_console
    from swe_srl.engine.interrupt import RunInterrupted
    from swe_srl.eval.report import print_report
    from swe_srl.eval.runner import EvalConfig, run_eval

    config = EvalConfig(
        tasks=tasks,
        policy=policy,
        out=out,
        sandbox=sandbox,
        workers=workers,
        setting=setting,
        max_steps=max_steps,
        max_tokens=max_tokens,
        time_limit=time_limit or None,
        instances=instance_ids(instances),
        test_timeout=test_timeout,
        retry_errors=retry_errors,
        engine=engine_settings(executor, ray_address, workers, task_budget, task_cpus, task_memory_gb),
        force_new=force_new,
        context=context_config(window, obs_budget, list_earlier),
        max_in_flight=max_in_flight or None,
    )
    try:
        report = run_eval(config, show_progress=progress)
    except RunInterrupted as err:
        exit_interrupted(err)
    print_report(report, output_console())
    if report.total and report.statuses.get("error", 0) == report.total:
        fail(f"every task ended in an error (see {out}/report.json)", EXIT_FAILED)


def images_build(
    suite: str = typer.Argument(..., help="Suite name (envs/<suite>) or tasks JSONL file."),
    instances: list[str] = INSTANCES,
    export: Path = typer.Option(
        None, "--export", help="Also write the suite as a swebench dataset JSONL here."
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild images that are up to date."),
    workers: int = typer.Option(1, "--workers", min=1, help="Builds running at once (across nodes)."),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
) -> None:
    """Build one Docker image per task (swe-srl/<suite>.<instance_id>:latest) on every node."""
    from swe_srl.engine.builds import build_images, export_images
    from swe_srl.engine.interrupt import RunInterrupted

    wanted = instance_ids(instances)
    settings = engine_settings(executor, ray_address, workers, 0, 1.0, 0)

    def show(image) -> None:
        where = f"\t{image.node[:12]}" if executor != "local" else ""
        typer.echo(f"{image.instance_id}\t{image.image}\t{image.action or 'error: ' + image.error}{where}")

    try:
        built = build_images(suite, instances=wanted, force=force, engine=settings, on_image=show)
    except RunInterrupted as err:
        exit_interrupted(err, resumes=False)
    if export is not None:
        export_images(suite, export, wanted)
    if any(image.error for image in built):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("eval")(eval_command)
    images = typer.Typer(help="Docker images for task suites.", no_args_is_help=True)
    images.command("build")(images_build)
    app.add_typer(images, name="images")
