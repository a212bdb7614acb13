"""The run report (``report.json``), the swebench predictions file, and the rich summary table."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from swe_srl.eval.stats import wilson_interval
from swe_srl.records import EvalResult


@dataclass(frozen=True)
class TaskRow:
    instance_id: str
    status: str
    resolved: bool
    reason: str
    steps: int
    duration: float
    audit: list[str] = field(default_factory=list)  # static findings on the patch (eval/audit.py)
    log: str = ""  # the kept test log, relative to the run folder


@dataclass(frozen=True)
class RunReport:
    """Resolve rate with its 95% Wilson interval and the outcome of every task."""

    total: int
    resolved: int
    resolve_rate: float
    ci95: tuple[float, float]
    statuses: dict[str, int]
    patch_failed: list[str]
    errors: dict[str, str]
    tampered: dict[str, str]  # instance -> what showed forced results
    mean_steps: float
    total_seconds: float
    tasks: list[TaskRow]
    meta: dict[str, str] = field(default_factory=dict)
    audited: int = 0  # tasks whose patch has audit findings

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ci95"] = list(self.ci95)
        return data


STATUS_COLOURS = {
    "resolved": "green",
    "unresolved": "yellow",
    "patch_failed": "magenta",
    "error": "red",
    "tampered": "bold red",
}


def build_report(results: list[EvalResult], meta: dict[str, str] | None = None) -> RunReport:
    """Summarise per-task results (one per instance) into a run report."""
    ordered = sorted(results, key=lambda r: r.instance_id)
    total = len(ordered)
    resolved = sum(r.resolved for r in ordered)
    return RunReport(
        total=total,
        resolved=resolved,
        resolve_rate=resolved / total if total else 0.0,
        ci95=wilson_interval(resolved, total),
        statuses=dict(Counter(r.status for r in ordered)),
        patch_failed=[r.instance_id for r in ordered if r.status == "patch_failed"],
        errors={r.instance_id: r.reason for r in ordered if r.status == "error"},
        tampered={r.instance_id: r.reason for r in ordered if r.status == "tampered"},
        mean_steps=sum(r.steps for r in ordered) / total if total else 0.0,
        total_seconds=round(sum(r.duration for r in ordered), 3),
        tasks=[
            TaskRow(r.instance_id, r.status, r.resolved, r.reason, r.steps, r.duration, list(r.audit), r.log)
            for r in ordered
        ],
        meta=dict(meta or {}),
        audited=sum(bool(r.audit) for r in ordered),
    )


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to ``path`` through a temporary file and a rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_predictions(path: Path, results: list[EvalResult], model_name: str) -> None:
    """``predictions.jsonl`` in swebench's format (instance_id, model_name_or_path, model_patch)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for result in sorted(results, key=lambda r: r.instance_id):
            row = {
                "instance_id": result.instance_id,
                "model_name_or_path": model_name,
                "model_patch": result.model_patch,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def print_report(report: RunReport, console=None) -> None:
    """The per-task table and the headline resolve rate, with rich."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    table = Table(title="swe-srl eval")
    for column in ("instance", "status", "steps", "seconds", "reason", "audit"):
        table.add_column(column, overflow="fold")
    for row in report.tasks:
        status = f"[{STATUS_COLOURS.get(row.status, 'white')}]{row.status}[/]"
        audit = ", ".join(row.audit[:2]) + (f" (+{len(row.audit) - 2})" if len(row.audit) > 2 else "")
        # Reasons and findings quote names a patch chose: markup in them is text.
        cells = (escape(row.instance_id), status, str(row.steps), f"{row.duration:.1f}")
        table.add_row(*cells, escape(row.reason[:120]), escape(audit))
    console.print(table)
    lo, hi = report.ci95
    console.print(
        f"resolved {report.resolved}/{report.total} = {report.resolve_rate:.1%} "
        f"(95% Wilson CI {lo:.1%}-{hi:.1%}); statuses {report.statuses}"
        + (f"; {report.audited} patch(es) with audit findings" if report.audited else "")
    )
