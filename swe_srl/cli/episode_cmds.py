"""``swe-srl episode``: one real episode on the bundled sample task, printed step by step."""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.options import SandboxKind


def episode(
    sandbox: SandboxKind = typer.Option("local", help="Sandbox backend: local (bubblewrap) or docker."),
    grade: bool = typer.Option(True, help="Grade the final patch (FAIL_TO_PASS / PASS_TO_PASS)."),
    out: Path | None = typer.Option(None, help="Also write the trajectory here (normalized JSON)."),
) -> None:
    """Run the scripted fix of the sample task in a sandbox and print its trajectory."""
    from swe_srl.console import output_console
    from swe_srl.episode import run_sample_episode
    from swe_srl.tui.render import print_trajectory

    grader = None
    if grade:
        from swe_srl.eval.grader import SandboxGrader

        grader = SandboxGrader(sandbox)
    trajectory = run_sample_episode(sandbox, grader=grader)
    print_trajectory(output_console(), trajectory)
    if out is not None:
        from swe_srl.trajectories import write_trajectory

        write_trajectory(trajectory, out)
        typer.echo(f"trajectory written to {out}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("episode")(episode)
