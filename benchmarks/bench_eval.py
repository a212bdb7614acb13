"""Evaluation throughput: tasks graded per minute with the gold policy (whole agent loop + grading).

Configurations: 1 and 2 workers, local (bubblewrap) and Docker sandboxes; the baseline is 1 worker
local, measured in the same run. ``--swebench`` also cross-checks every task of the suite with
swebench's own harness (gold and empty predictions) against our grader's verdicts.

Run: ``.venv/bin/python benchmarks/bench_eval.py [--suite bundled] [--swebench]``
Writes ``benchmarks/results/bench_eval.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl.eval.runner import EvalConfig, run_eval

RESULTS = Path(__file__).resolve().parent / "results" / "bench_eval.json"
CONFIGS = (("local", 1), ("local", 2), ("docker", 1), ("docker", 2))


def measure(suite: str, sandbox: str, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        start = time.perf_counter()
        report = run_eval(
            EvalConfig(tasks=suite, policy="gold", out=Path(tmp), sandbox=sandbox, workers=workers)
        )
        seconds = time.perf_counter() - start
    return {
        "sandbox": sandbox,
        "workers": workers,
        "tasks": report.total,
        "resolved": report.resolved,
        "seconds": round(seconds, 2),
        "tasks_per_minute": round(report.total / seconds * 60, 2),
        "statuses": report.statuses,
        "first_errors": dict(list(report.errors.items())[:3]),
    }


def swebench_crosscheck(suite: str, workers: int) -> dict:
    """Gold and empty predictions through swebench's harness vs our Docker grader, every task."""
    from swe_srl.eval.grader import SandboxGrader
    from swe_srl.eval.images import build_suite_images, suite_name, with_image
    from swe_srl.eval.swebench_export import export_dataset, run_official_evaluation, write_predictions_file
    from swe_srl.tasks import load_tasks

    name = suite_name(suite)
    build_suite_images(suite)
    tasks = [with_image(t, name) for t in load_tasks(suite)]
    grader = SandboxGrader("docker", test_timeout=120)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-swebench-") as tmp:
        dataset = export_dataset(tasks, Path(tmp) / "dataset.jsonl")
        for kind in ("gold", "empty"):
            patches = {t.instance_id: (t.patch if kind == "gold" else "") for t in tasks}
            predictions = write_predictions_file(Path(tmp) / f"{kind}.jsonl", patches, kind)
            start = time.perf_counter()
            official = run_official_evaluation(
                dataset, predictions, Path(tmp) / kind, run_id=kind, workers=workers
            )
            seconds = time.perf_counter() - start
            graded = {t.instance_id: grader.grade(t, patches[t.instance_id]) for t in tasks}
            ours = {i: r.resolved for i, r in graded.items()}
            out[kind] = {
                "instances": len(tasks),
                "swebench_resolved": sum(official.values()),
                "ours_resolved": sum(ours.values()),
                "agree": sum(official[i] == ours[i] for i in ours),
                "swebench_seconds": round(seconds, 1),
                "our_statuses": sorted({r.status for r in graded.values()}),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="bundled")
    parser.add_argument("--swebench", action="store_true", help="also cross-check with swebench's harness")
    args = parser.parse_args()
    rows = [measure(args.suite, sandbox, workers) for sandbox, workers in CONFIGS]
    baseline = rows[0]["tasks_per_minute"]
    for row in rows:
        row["ratio_vs_local_1_worker"] = round(row["tasks_per_minute"] / baseline, 2)
    table = Table(title=f"gold policy on {args.suite}: tasks graded per minute (baseline: local, 1 worker)")
    for column in ("sandbox", "workers", "tasks", "resolved", "seconds", "tasks/min", "ratio"):
        table.add_column(column, justify="right")
    for r in rows:
        cells = (r["sandbox"], r["workers"], r["tasks"], r["resolved"], f"{r['seconds']:.1f}")
        table.add_row(
            *map(str, cells), f"{r['tasks_per_minute']:.1f}", f"{r['ratio_vs_local_1_worker']:.2f}x"
        )
    console = Console()
    console.print(table)
    result = {
        "suite": args.suite,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cpus",
        "rows": rows,
    }
    if args.swebench:
        result["swebench_crosscheck"] = swebench_crosscheck(args.suite, workers=4)
        console.print(result["swebench_crosscheck"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
