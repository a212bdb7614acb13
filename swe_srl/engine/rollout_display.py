"""What ``swe-srl rollout`` shows: a progress bar over attempts and a summary table per task."""

from __future__ import annotations

from swe_srl.engine.rollout import AttemptRecord, RolloutConfig, RolloutReport


def rollout_table(report: RolloutReport):
    """A rich table: one row per task, totals in the caption."""
    from rich.table import Table

    table = Table(title=f"rollout: {report.config.policy} on {report.config.tasks}")
    for name, justify in (
        ("instance", "left"),
        ("attempts", "right"),
        ("resolved", "center"),
        ("steps", "right"),
        ("status", "left"),
        ("kept", "left"),
    ):
        table.add_column(name, justify=justify)
    for task in report.tasks:
        mark = "[green]yes[/green]" if task.resolved else "[red]no[/red]"
        table.add_row(
            task.instance_id,
            str(task.attempts),
            mark,
            str(task.steps or ""),
            task.status,
            ", ".join(task.kept),
        )
    total = len(report.tasks)
    rate = 100.0 * report.resolved / total if total else 0.0
    masked = sum(t.masked for t in report.tasks)
    table.caption = (
        f"{report.resolved}/{total} tasks resolved ({rate:.1f}%) within {report.config.attempts} "
        f"attempt(s); {report.kept} trajectories kept in {report.config.out}; "
        f"{report.new_attempts} new attempt(s) this run"
        + (
            f"; {masked} attempt(s) masked by infrastructure errors (--retry-errors reruns them)"
            if masked
            else ""
        )
    )
    return table


class RolloutProgress:
    """A rich progress bar over attempts; ``advance`` is the ``on_attempt`` hook."""

    def __init__(self, config: RolloutConfig, enabled: bool = True):
        self.config, self.enabled, self._bar = config, enabled, None

    def __enter__(self) -> RolloutProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]rollout"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            self._bar.start()
            self._id = self._bar.add_task("", total=None)
            self._resolved = 0
        return self

    def advance(self, record: AttemptRecord) -> None:
        if self._bar is None:
            return
        self._resolved += record.resolved
        verdict = "kept" if record.kept else "rejected"
        self._bar.update(
            self._id,
            advance=1,
            description=(
                f"{record.instance_id} #{record.attempt}: {record.status}, {verdict} "
                f"({self._resolved} resolved)"
            ),
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
