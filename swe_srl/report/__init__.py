"""Reports over run folders: ``swe-srl report RUN_DIR [RUN_DIR ...]``.

``collect`` reads eval runs, training runs, or folders holding both (a ``swe-srl demo`` output)
into typed records (``training_runs`` reads training logs and lines up SFT -> SRL -> RLVR
chains); ``groups`` splits resolve rates by repository and difficulty; ``tables`` turns them into
tables (printed with rich); ``plots`` draws PNGs; ``html`` writes one self-contained page with the
tables and the PNGs embedded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from swe_srl.report.collect import Collection, EvalRun, TrainingRun, collect, collect_many
from swe_srl.report.step_rewards import StepReward, read_step_rewards, write_step_rewards

__all__ = [
    "Collection",
    "EvalRun",
    "ReportFiles",
    "StepReward",
    "TrainingRun",
    "collect",
    "collect_many",
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
        console.print(to_rich(table, console.width))
    for note in collection.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def default_out(run_dirs: list[Path]) -> Path:
    """``RUN_DIR/report`` for one run folder; for several, ``report/`` in the folder holding them all."""
    if len(run_dirs) == 1:
        return run_dirs[0] / REPORT_DIR
    common = os.path.commonpath([str(d.resolve()) for d in run_dirs])
    return Path(common) / REPORT_DIR


def make_report(
    run_dirs: str | Path | list[str | Path] | tuple[str | Path, ...],
    out: str | Path | None = None,
    *,
    html: bool = True,
    quiet: bool = False,
    console=None,
) -> ReportFiles:
    """Read the run folders, print their tables, and write PNGs (and ``report.html``) to ``out``.

    ``out`` defaults to :func:`default_out`; ``quiet`` skips printing the tables.
    """
    from swe_srl.report.html import render_page, write_page
    from swe_srl.report.plots import write_figures
    from swe_srl.report.tables import eval_tables, training_tables

    dirs = [Path(d) for d in ([run_dirs] if isinstance(run_dirs, str | Path) else run_dirs)]
    collection = collect_many(dirs)
    out = Path(out) if out is not None else default_out(dirs)
    if not quiet:
        print_tables(collection, console)
    figures = write_figures(collection, out)
    page_path = None
    if html:
        names = ", ".join(d.resolve().name for d in dirs)
        page = render_page(
            f"swe-srl report: {names}",
            f"from {', '.join(str(d.resolve()) for d in dirs)}: {len(collection.eval_runs)} eval run(s), "
            f"{len(collection.training_runs)} training run(s)",
            (eval_tables(collection.eval_runs), [f for f in figures if f.section == "eval"]),
            (training_tables(collection.training_runs), [f for f in figures if f.section == "training"]),
            collection.notes,
        )
        page_path = write_page(out / HTML_NAME, page)
    return ReportFiles(collection, out, tuple(f.path for f in figures), page_path)
