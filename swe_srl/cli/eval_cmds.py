"""CLI commands of the eval area: ``eval`` and ``images build`` (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.options import SandboxKind


def eval_command(
    tasks: str = typer.Option(..., "--tasks", help="Suite name (envs/<suite>) or tasks JSONL file."),
    policy: str = typer.Option(
        ..., "--policy", help="gold | noop | replay:FILE | openai:MODEL@URL | hf:PATH | vllm:PATH"
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (a rerun resumes it)."),
    sandbox: SandboxKind = typer.Option("local", "--sandbox", help="local | docker"),
    workers: int = typer.Option(1, "--workers", min=1),
    setting: str = typer.Option("e2e", "--setting", help="e2e (agent loop) | oracle (oracle file edit)"),
    max_steps: int = typer.Option(50, "--max-steps", min=1),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=1),
    time_limit: float = typer.Option(0.0, "--time-limit", help="Seconds per episode (0: none)."),
    instances: str = typer.Option("", "--instances", help="Comma-separated instance ids to run."),
    test_timeout: float = typer.Option(
        300.0, "--test-timeout", help="Seconds the tests may run when grading."
    ),
    retry_errors: bool = typer.Option(
        False, "--retry-errors", help="On a rerun, run the tasks recorded as errors again."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run a policy on a task suite, grade every patch, and report the resolve rate."""
    from swe_srl.console import output_console
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
        instances=tuple(i.strip() for i in instances.split(",") if i.strip()),
        test_timeout=test_timeout,
        retry_errors=retry_errors,
    )
    print_report(run_eval(config, show_progress=progress), output_console())


def images_build(
    suite: str = typer.Argument(..., help="Suite name (envs/<suite>) or tasks JSONL file."),
    instances: str = typer.Option("", "--instances", help="Comma-separated instance ids (default: all)."),
    export: Path = typer.Option(
        None, "--export", help="Also write the suite as a swebench dataset JSONL here."
    ),
) -> None:
    """Build one Docker image per task: swe-srl/<suite>.<instance_id>:latest."""
    from swe_srl.eval.images import build_suite_images

    wanted = tuple(i.strip() for i in instances.split(",") if i.strip())
    for task_image in build_suite_images(suite, instances=wanted, export=export):
        typer.echo(f"{task_image.instance_id}\t{task_image.image}\t{task_image.action}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("eval")(eval_command)
    images = typer.Typer(help="Docker images for task suites.", no_args_is_help=True)
    images.command("build")(images_build)
    app.add_typer(images, name="images")
