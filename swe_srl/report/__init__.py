"""Reports over run folders: ``swe-srl report RUN_DIR``.

``collect`` reads eval runs, training runs, or a folder holding both (a ``swe-srl demo`` output)
into typed records; ``groups`` splits resolve rates by repository and difficulty; ``tables`` turns
them into tables (printed with rich); ``plots`` draws PNGs;
``html`` writes one self-contained page with the tables and the PNGs embedded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.report.collect import Collection, EvalRun, TrainingRun, collect
from swe_srl.report.step_rewards import StepReward, read_step_rewards, write_step_rewards

__all__ = [
    "Collection",
    "EvalRun",
    "ReportFiles",
    "StepReward",
    "TrainingRun",
    "collect",
    "make_report",
    "print_tables",
    "read_step_rewards",
    "write_step_rewards",
]

REPORT_DIR = "report"
HTML_NAME = "report.html"


@dataclass(frozen=True)
class ReportFiles:
    """What ``make_report`` read and wrote."""

    collection: Collection
    out: Path
    pngs: tuple[Path, ...]
    html: Path | None


def print_tables(collection: Collection, console=None) -> None:
    """Every table of the collection in the terminal."""
    from swe_srl.console import output_console
    from swe_srl.report.tables import build_tables, to_rich

    console = console or output_console()
    for table in build_tables(collection):
        console.print(to_rich(table))
    for note in collection.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def make_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    html: bool = True,
    quiet: bool = False,
    console=None,
) -> ReportFiles:
    """Read ``run_dir``, print its tables, and write PNGs (and ``report.html``) to ``out``.

    ``out`` defaults to ``RUN_DIR/report``; ``quiet`` skips printing the tables.
    """
    from swe_srl.report.html import render_page, write_page
    from swe_srl.report.plots import write_figures
    from swe_srl.report.tables import eval_tables, training_tables

    collection = collect(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / REPORT_DIR
    if not quiet:
        print_tables(collection, console)
    figures = write_figures(collection, out)
    page_path = None
    if html:
        page = render_page(
            f"swe-srl report: {Path(run_dir).resolve().name}",
            f"from {Path(run_dir).resolve()}: {len(collection.eval_runs)} eval run(s), "
            f"{len(collection.training_runs)} training run(s)",
            (eval_tables(collection.eval_runs), [f for f in figures if f.section == "eval"]),
            (training_tables(collection.training_runs), [f for f in figures if f.section == "training"]),
            collection.notes,
        )
        page_path = write_page(out / HTML_NAME, page)
    return ReportFiles(collection, out, tuple(f.path for f in figures), page_path)
