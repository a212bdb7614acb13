"""CLI commands that summarise runs for a person: ``report`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    run_dirs: list[Path] = typer.Argument(
        ..., help="Eval runs, training runs, or folders holding runs (a demo); several are compared."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Where the PNGs and report.html go (default RUN_DIR/report; for several, report/ in "
        "the folder holding them).",
    ),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write one self-contained report.html."),
) -> None:
    """Tables in the terminal, PNG plots, and an HTML page for eval and training runs."""
    from swe_srl.report import make_report

    files = make_report(run_dirs, out, html=html)
    typer.echo(f"wrote {len(files.pngs)} figure(s) to {files.out}")
    if files.html is not None:
        typer.echo(f"report: {files.html}")


def demo(
    out: Path = typer.Option(
        Path("swe-srl-demo"), "--out", help="Output folder; a rerun skips finished stages."
    ),
    fast: bool = typer.Option(False, "--fast", help="The small version: sample suite, 2 training steps."),
) -> None:
    """The whole pipeline on this machine: tasks, expert steps, SFT + SRL, evaluation, report."""
    from swe_srl.demo import DemoConfig, print_summary, run_demo

    print_summary(run_demo(DemoConfig.create(out, fast=fast)))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("report")(report)
    app.command("demo")(demo)
