"""CLI commands of the tasks area: list suites and tasks, validate a suite (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.engine_options import (
    EXECUTOR,
    RAY_ADDRESS,
    TASK_BUDGET,
    ExecutorKind,
    engine_settings,
    exit_interrupted,
)
from swe_srl.cli.errors import EXIT_FAILED
from swe_srl.cli.options import INSTANCES, SandboxKind, instance_ids

tasks_app = typer.Typer(help="Task suites: list them, show their tasks, validate them in a sandbox.")


@tasks_app.command("suites")
def tasks_suites() -> None:
    """List the suites under the envs folder ($SWE_SRL_ENVS or the repository's envs/)."""
    from swe_srl.tasks import envs_root, list_suites

    for name in list_suites():
        typer.echo(name)
    typer.echo(f"({envs_root()})", err=True)


@tasks_app.command("list")
def tasks_list(
    spec: str = typer.Argument(..., help="Suite name, tasks file (.jsonl/.json/.parquet) or folder."),
) -> None:
    """List a suite's tasks: instance id, repository, difficulty and test counts."""
    from swe_srl.tasks import load_tasks

    for task in load_tasks(spec):
        difficulty = task.metadata.get("difficulty", "-")
        typer.echo(
            f"{task.instance_id}\t{task.repo}\t{difficulty}\t"
            f"F2P={len(task.FAIL_TO_PASS)}\tP2P={len(task.PASS_TO_PASS)}"
        )


@tasks_app.command("validate")
def tasks_validate(
    spec: str = typer.Argument(..., help="Suite name, tasks file or folder."),
    sandbox: SandboxKind = typer.Option("local", "--sandbox", help="Sandbox kind: local or docker."),
    workers: int = typer.Option(2, "--workers", min=1, help="Sandboxes at a time."),
    instance: list[str] = INSTANCES,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the results as JSONL here."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Run folder: validation.jsonl, telemetry.json, logs/<instance>/{before,after}/test_output.txt.",
    ),
    timeout: float = typer.Option(300.0, "--timeout", min=1, help="Seconds per test run (as in eval)."),
    repos: str = typer.Option("", "--repos", help="Folder of owner__name git clones (or a URL with {repo})."),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
    task_budget: float = TASK_BUDGET,
) -> None:
    """Prove each task: F2P fail with the bug and pass after the gold patch; P2P always pass."""
    import os

    from swe_srl.engine.interrupt import RunInterrupted
    from swe_srl.engine.validate import validate_suite
    from swe_srl.tasks.repos import REPOS_ENV

    if repos:
        os.environ[REPOS_ENV] = repos  # every loader of this run (and its workers) reads it

    def show(result) -> None:
        mark = "ok  " if result.valid else "FAIL"
        typer.echo(f"{mark} {result.instance_id} ({result.duration:.1f}s)")
        for problem in result.problems:
            typer.echo(f"     {problem}")

    settings = engine_settings(executor, ray_address, workers, task_budget, 1.0, 0)
    outputs = [*([output] if output else []), *([out / "validation.jsonl"] if out else [])]
    try:
        results = validate_suite(
            spec, sandbox, instance_ids=instance_ids(instance), timeout=timeout, engine=settings,
            outputs=outputs, log_dir=out / "logs" if out is not None else None, run_dir=out, on_result=show,
        )  # fmt: skip
    except RunInterrupted as err:
        exit_interrupted(err, resumes=False)
    bad = sum(not r.valid for r in results)
    typer.echo(f"{len(results) - bad}/{len(results)} tasks valid")
    if bad or not results:
        raise typer.Exit(code=EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(tasks_app, name="tasks")
