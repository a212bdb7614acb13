"""CLI commands that show things to a person: replay, report, demo."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.records import SweSrlError


def _fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def replay(
    file: Path = typer.Argument(..., help="A trajectory in any format the importers read."),
    compare: Path | None = typer.Option(None, "--compare", help="A second trajectory of the same task."),
    index: int = typer.Option(0, "--index", help="Which trajectory of a collection file to show."),
    print_only: bool = typer.Option(False, "--print", help="Render without interaction (logs, pipes, CI)."),
) -> None:
    """Step through a trajectory: expert beside student with --compare."""
    from swe_srl.tui.loading import load_for_replay

    try:
        trajectory = load_for_replay(file, index)
        other = load_for_replay(compare, 0) if compare else None
    except SweSrlError as err:
        raise _fail(err) from None
    if print_only:
        from rich.console import Console

        from swe_srl.tui.render import print_trajectory

        print_trajectory(Console(), trajectory, other)
        return
    from swe_srl.tui.app import ReplayApp

    ReplayApp(trajectory, other).run()


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("replay")(replay)
