"""CLI commands that show things to a person: ``replay``."""

from __future__ import annotations

from pathlib import Path

import typer


def replay(
    path: Path = typer.Argument(
        ...,
        help="A trajectory (any format the importers read), a folder or collection of them, "
        "or an eval run folder (a browser over its tasks).",
    ),
    compare: Path | None = typer.Option(
        None,
        "--compare",
        help="A second trajectory of the same task; which is the expert is read from the records.",
    ),
    expert: Path | None = typer.Option(
        None,
        "--expert",
        help="The expert: one trajectory of the same task, or a folder/collection of experts matched by "
        "instance id (default: trajectories/ folders beside and above a run).",
    ),
    index: int | None = typer.Option(
        None, "--index", help="Open only this trajectory of a collection (0-based)."
    ),
    print_only: bool = typer.Option(False, "--print", help="Render without interaction (logs, pipes, CI)."),
) -> None:
    """Step through a trajectory, beside its expert when one is known; browse folders and eval runs."""
    from swe_srl.console import output_console
    from swe_srl.tui.launch import ReplayRequest, run_replay

    request = ReplayRequest(path, compare=compare, expert=expert, index=index, print_only=print_only)
    run_replay(request, output_console() if print_only else None)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("replay")(replay)
