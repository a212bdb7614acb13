"""CLI commands of the environments area: list and build task environments (see swe_srl/cli/__init__.py)."""

from __future__ import annotations

import typer

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
    instance: list[str] = typer.Option([], "--instance", "-i", help="Only the environments of these tasks."),
) -> None:
    """Build each environment the suite's tasks name, once (cached by content hash)."""
    from swe_srl.environments.ensure import ensure_environments
    from swe_srl.tasks import load_tasks

    tasks = [t for t in load_tasks(spec) if not instance or t.instance_id in instance]
    results = ensure_environments(tasks, docker=docker, force=force)
    for result in results:
        image = f"\t{result.image}" if result.image else ""
        typer.echo(f"{result.status:11} {result.name}\t{result.key}\t{result.seconds:.1f}s{image}")
        if result.error:
            typer.echo(f"            {result.error}")
    bad = sum(not r.ok for r in results)
    typer.echo(f"{len(results) - bad}/{len(results)} environments ready")
    if bad:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(envs_app, name="envs")
