"""CLI commands of the environments area: list and build task environments (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

import typer

from swe_srl.cli.engine_options import EXECUTOR, RAY_ADDRESS, ExecutorKind, engine_settings, exit_interrupted
from swe_srl.cli.options import INSTANCES, instance_ids

envs_app = typer.Typer(help="Task environments: interpreter, pinned packages, install and test commands.")


@envs_app.command("list")
def envs_list(spec: str = typer.Argument(..., help="Suite name, tasks file or folder.")) -> None:
    """List the environments a suite's tasks name: name, build key, tasks, built or not."""
    from swe_srl.environments.build import load_built
    from swe_srl.environments.ensure import specs_of
    from swe_srl.tasks import load_tasks

    for env, count in specs_of(load_tasks(spec)):
        state = "built" if load_built(env) is not None else "not built"
        typer.echo(f"{env.name}\t{env.build_key()}\t{count} task(s)\tpython {env.python}\t{state}")


@envs_app.command("build")
def envs_build(
    spec: str = typer.Argument(..., help="Suite name, tasks file or folder."),
    docker: bool = typer.Option(False, "--docker", help="Also build each environment's Docker image."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when cached."),
    instance: list[str] = INSTANCES,
    workers: int = typer.Option(1, "--workers", min=1, help="Builds running at once (across nodes)."),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
) -> None:
    """Build each environment the suite's tasks name, once per machine (cached by content hash)."""
    from swe_srl.engine.builds import build_environments
    from swe_srl.engine.interrupt import RunInterrupted

    settings = engine_settings(executor, ray_address, workers, 0, 1.0, 0)

    def show(node: str, result) -> None:
        image = f"\t{result.image}" if result.image else ""
        where = f"\t{node[:12]}" if executor != "local" else ""
        typer.echo(f"{result.status:11} {result.name}\t{result.key}\t{result.seconds:.1f}s{image}{where}")
        if result.error:
            typer.echo(f"            {result.error}")

    try:
        results = build_environments(
            spec,
            instances=instance_ids(instance),
            docker=docker,
            force=force,
            engine=settings,
            on_result=show,
        )
    except RunInterrupted as err:
        exit_interrupted(err, resumes=False)
    bad = sum(not r.ok for _, r in results)
    typer.echo(f"{len(results) - bad}/{len(results)} environments ready")
    if bad:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(envs_app, name="envs")
