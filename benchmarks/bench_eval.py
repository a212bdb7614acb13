"""Evaluation throughput: tasks graded per minute with the gold policy (whole agent loop + grading).

Configurations: 1 and 2 workers, local (bubblewrap) and Docker sandboxes; the baseline is 1 worker
local, measured in the same run. ``--swebench`` also cross-checks every task of the suite with
swebench's own harness (gold and empty predictions) against our grader's verdicts.

Grading alone, hardened vs old: the gold patch of every task graded by this checkout's grader and by
the grader of ``--baseline-ref`` (default: the last commit before the grader was hardened against
forged verdicts), both in the same run, each backend, one worker, the same loop in a child process
(the old one from a temporary git worktree of that commit; skipped when the commit is not here).

Run: ``.venv/bin/python benchmarks/bench_eval.py [--suite bundled] [--swebench] [--grading-only]``
Writes ``benchmarks/results/bench_eval.json`` (``bench_eval_<suite>.json`` for another suite).
On ``--suite pypi`` (real projects; build their environments first: ``swe-srl envs build pypi --docker``)
``--limit N`` takes N tasks spread over the suite's environments (and skips the grader comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl.eval.runner import EvalConfig, run_eval

RESULTS = Path(__file__).resolve().parent / "results" / "bench_eval.json"
REPO = Path(__file__).resolve().parents[1]
CONFIGS = (("local", 1), ("local", 2), ("docker", 1), ("docker", 2))
OLD_GRADER_REF = "5ebf7ea"  # main before the grader took results from its own launcher
# The loop both graders run, in a child process whose sys.path starts with their checkout.
GRADE_LOOP = """
import json, sys, time
from swe_srl.eval.grader import SandboxGrader
from swe_srl.tasks import load_tasks
suite, kind = sys.argv[1], sys.argv[2]
tasks = load_tasks(suite)
grader = SandboxGrader(kind, test_timeout=120)
start = time.perf_counter()
statuses = [grader.grade(task, task.patch).status for task in tasks]
seconds = time.perf_counter() - start
print(json.dumps({"tasks": len(tasks), "seconds": seconds, "statuses": statuses}))
"""


def spread(suite: str, limit: int) -> tuple[str, ...]:
    """``limit`` instance ids taken round-robin over the suite's environments (all when 0)."""
    from swe_srl.tasks import load_tasks

    by_env: dict[str, list[str]] = {}
    for task in load_tasks(suite):
        by_env.setdefault(task.environment or task.repo, []).append(task.instance_id)
    queues = [sorted(ids) for _, ids in sorted(by_env.items())]
    picked: list[str] = []
    while any(queues) and (not limit or len(picked) < limit):
        for queue in queues:
            if queue and (not limit or len(picked) < limit):
                picked.append(queue.pop(0))
    return tuple(picked) if limit else ()


def measure(suite: str, sandbox: str, workers: int, instances: tuple[str, ...] = ()) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        start = time.perf_counter()
        config = EvalConfig(
            tasks=suite, policy="gold", out=Path(tmp), sandbox=sandbox, workers=workers, instances=instances
        )
        report = run_eval(config)
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


def grade_gold(checkout: Path, suite: str, kind: str) -> dict:
    """Grade every gold patch of ``suite`` with the grader of ``checkout``, timed inside the child."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "SWE_SRL_ENVS": str(REPO / "envs")}
    proc = subprocess.run(
        [sys.executable, "-c", GRADE_LOOP, suite, kind], cwd=checkout, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"grading with {checkout} failed: {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "tasks": data["tasks"],
        "resolved": data["statuses"].count("resolved"),
        "seconds": round(data["seconds"], 2),
        "tasks_per_minute": round(data["tasks"] / data["seconds"] * 60, 2),
    }


def grading_hardened_vs_old(suite: str, ref: str) -> dict:
    """Grading throughput of this checkout's grader against ``ref``'s, per backend, same run."""
    known = subprocess.run(["git", "cat-file", "-e", f"{ref}^{{commit}}"], cwd=REPO, capture_output=True)
    if known.returncode != 0:
        return {"skipped": f"commit {ref} is not in this clone"}
    out: dict = {"baseline_ref": ref, "rows": []}
    with tempfile.TemporaryDirectory(prefix="bench-old-grader-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), ref], cwd=REPO, check=True)
        try:
            for kind in ("local", "docker"):
                hardened, baseline = grade_gold(REPO, suite, kind), grade_gold(old, suite, kind)
                ratio = round(hardened["tasks_per_minute"] / baseline["tasks_per_minute"], 2)
                out["rows"].append({"sandbox": kind, "hardened": hardened, "old": baseline, "ratio": ratio})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO, check=False)
    return out


def grading_table(data: dict) -> Table:
    table = Table(title=f"grading only, gold patches: hardened grader vs {data['baseline_ref']} (1 worker)")
    for column in ("sandbox", "tasks", "resolved (new/old)", "new tasks/min", "old tasks/min", "new/old"):
        table.add_column(column, justify="right")
    for row in data["rows"]:
        new, old = row["hardened"], row["old"]
        table.add_row(
            row["sandbox"],
            str(new["tasks"]),
            f"{new['resolved']}/{old['resolved']}",
            f"{new['tasks_per_minute']:.1f}",
            f"{old['tasks_per_minute']:.1f}",
            f"{row['ratio']:.2f}x",
        )
    return table


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
    parser.add_argument("--baseline-ref", default=OLD_GRADER_REF, help="the old grader's commit")
    parser.add_argument("--grading-only", action="store_true", help="only the hardened-vs-old grading rows")
    parser.add_argument("--limit", type=int, default=0, help="only N tasks, spread over the environments")
    args = parser.parse_args()
    console = Console()
    instances = spread(args.suite, args.limit)
    if args.limit:
        grading: dict = {"skipped": "--limit: a sample of the suite"}
    else:
        grading = grading_hardened_vs_old(args.suite, args.baseline_ref)
    if "rows" in grading:
        console.print(grading_table(grading))
    else:
        console.print(f"grading comparison skipped: {grading['skipped']}")
    if args.grading_only:
        _write({"suite": args.suite, "machine": _machine(), "grading": grading}, console)
        return
    rows = [measure(args.suite, sandbox, workers, instances) for sandbox, workers in CONFIGS]
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
    console.print(table)
    result = {"suite": args.suite, "machine": _machine(), "rows": rows, "grading": grading}
    if args.swebench:
        result["swebench_crosscheck"] = swebench_crosscheck(args.suite, workers=4)
        console.print(result["swebench_crosscheck"])
    _write(result, console)


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cpus"


def _write(result: dict, console: Console) -> None:
    """Write the results; keys this run did not measure keep their last values."""
    suite = result.get("suite", "bundled")
    path = RESULTS if suite == "bundled" else RESULTS.with_name(f"bench_eval_{suite}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**previous, **result}, indent=2) + "\n")
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
