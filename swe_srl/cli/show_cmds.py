"""CLI commands that summarise runs for a person: ``report`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def report(
    run_dir: Path = typer.Argument(
        ..., help="An eval run, a training run, or a folder holding runs (a demo)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Where the PNGs and report.html go (default RUN_DIR/report)."
    ),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write one self-contained report.html."),
) -> None:
    """Tables in the terminal, PNG plots, and an HTML page for eval and training runs."""
    from swe_srl.records import SweSrlError
    from swe_srl.report import make_report

    try:
        files = make_report(run_dir, out, html=html)
    except SweSrlError as err:
        raise _fail(err) from None
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
    from swe_srl.demo import DemoConfig, DemoError, print_summary, run_demo

    try:
        result = run_demo(DemoConfig.create(out, fast=fast))
    except DemoError as err:
        raise _fail(err) from None
    print_summary(result)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("report")(report)
    app.command("demo")(demo)
