"""Benchmark: step instances from 5,000 trajectories, streaming vs. load-everything.

Input: the real fixtures (tests/fixtures) imported once and replicated to N normalized trajectories in
one JSONL file (ids and issue text varied, so deduplication keeps every instance). Each measured run is a
fresh subprocess that reports its own wall time and peak RSS (``ru_maxrss``):

- ``stream``: ``build_step_dataset`` over ``iter_trajectories`` (the shipped path), all N;
- ``naive`` (baseline): load every trajectory, build every instance in a list, write JSONL, then
  one ``pyarrow.Table.from_pylist`` + ``write_table``; run on a subset and extrapolated linearly.

Also measured: importing the raw fixture files (per-trajectory import cost from the source formats).
Targets: <= 60 s and <= 2 GB peak RSS for 5,000 trajectories on a 2-core machine.

    .venv/bin/python benchmarks/bench_steps.py [--trajectories 5000] [--baseline 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "trajectories"
RESULTS = ROOT / "benchmarks" / "results" / "bench_steps.json"
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def make_input(path: Path, count: int) -> int:
    """Write ``count`` normalized trajectories (replicated fixtures) to ``path``; returns the step total."""
    from swe_srl.trajectories.importers import import_paths

    templates = list(import_paths([FIXTURES]))
    steps = 0
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            base = templates[index % len(templates)]
            traj = dataclasses.replace(
                base,
                instance_id=f"{base.instance_id}.copy{index}",
                problem_statement=f"[copy {index}] {base.problem_statement}",
                metadata={**base.metadata, "trajectory_id": f"{base.instance_id}.copy{index}"},
            )
            handle.write(json.dumps(traj.to_dict(), ensure_ascii=False) + "\n")
            steps += len(traj.steps)
    return steps


def worker_stream(source: Path, out: Path, limit: int) -> dict:
    from itertools import islice

    from swe_srl.trajectories.io import iter_trajectories
    from swe_srl.trajectories.steps import StepOptions, build_step_dataset

    start = time.perf_counter()
    stats = build_step_dataset(islice(iter_trajectories(source), limit), out, StepOptions())
    return {"seconds": time.perf_counter() - start, "instances": stats.total_instances}


def worker_naive(source: Path, out: Path, limit: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from swe_srl.trajectories.io import trajectory_from_dict
    from swe_srl.trajectories.steps import step_instances

    start = time.perf_counter()
    lines = source.read_text(encoding="utf-8").splitlines()[:limit]
    trajectories = [trajectory_from_dict(json.loads(line)) for line in lines]
    rows = [instance.to_dict() for traj in trajectories for instance in step_instances(traj)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.jsonl").write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    pq.write_table(pa.Table.from_pylist(rows), out / "train.parquet", compression="zstd")
    return {"seconds": time.perf_counter() - start, "instances": len(rows)}


def worker_idle() -> dict:
    """The interpreter with the same libraries loaded: the fixed part of every run's RSS."""
    import pyarrow.parquet  # noqa: F401

    import swe_srl.trajectories.steps  # noqa: F401

    return {"seconds": 0.0}


def worker_import(repeat: int) -> dict:
    from swe_srl.trajectories.importers import import_paths

    files = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    start = time.perf_counter()
    count = sum(1 for _ in range(repeat) for _ in import_paths(files))
    return {"seconds": time.perf_counter() - start, "trajectories": count}


def run_worker(*args: str) -> dict:
    """Run one measurement in a fresh interpreter so its peak RSS is its own."""
    command = [sys.executable, __file__, "--worker", *args]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=5000)
    parser.add_argument("--baseline", type=int, default=500)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "import":
            result = worker_import(int(rest[0]))
        elif kind == "idle":
            result = worker_idle()
        else:
            work = {"stream": worker_stream, "naive": worker_naive}[kind]
            result = work(Path(rest[0]), Path(rest[1]), int(rest[2]))
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb()}))
        return
    report(measure(args.trajectories, args.baseline))


def measure(count: int, baseline: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_steps_"))
    try:
        source = tmp / "trajectories.jsonl"
        steps = make_input(source, count)
        input_mb = source.stat().st_size / 2**20
        stream = run_worker("stream", str(source), str(tmp / "stream"), str(count))
        out_mb = sum(p.stat().st_size for p in (tmp / "stream").iterdir()) / 2**20
        naive = run_worker("naive", str(source), str(tmp / "naive"), str(baseline))
        imported = run_worker("import", "20")
        idle = run_worker("idle")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    scale = count / baseline
    # Time scales linearly; of RSS only the part above the loaded interpreter does.
    fixed = idle["peak_rss_mb"]
    naive_extrapolated = {
        "seconds": naive["seconds"] * scale,
        "peak_rss_mb": fixed + (naive["peak_rss_mb"] - fixed) * scale,
    }
    return {
        "trajectories": count,
        "steps": steps,
        "input_mb": round(input_mb, 1),
        "output_mb": round(out_mb, 1),
        "interpreter_rss_mb": fixed,
        "stream": {**stream, "instances_per_s": stream["instances"] / stream["seconds"]},
        "naive_subset": {
            **naive,
            "trajectories": baseline,
            "instances_per_s": naive["instances"] / naive["seconds"],
        },
        "naive_extrapolated": naive_extrapolated,
        "raw_import": {
            **imported,
            "ms_per_trajectory": 1000 * imported["seconds"] / imported["trajectories"],
        },
        "ratios": {
            "time_naive_over_stream": naive_extrapolated["seconds"] / stream["seconds"],
            "rss_naive_over_stream": naive_extrapolated["peak_rss_mb"] / stream["peak_rss_mb"],
            "throughput_stream_over_naive": (stream["instances"] / stream["seconds"])
            / (naive["instances"] / naive["seconds"]),
        },
        "targets": {"seconds": 60, "peak_rss_mb": 2048},
        "meets_targets": stream["seconds"] <= 60 and stream["peak_rss_mb"] <= 2048,
    }


def _row(name: str, trajectories: int, run: dict) -> tuple[str, ...]:
    instances = f"{run['instances']:,}" if "instances" in run else ""
    rate = f"{run['instances_per_s']:,.0f}" if "instances_per_s" in run else ""
    return name, f"{trajectories:,}", instances, f"{run['seconds']:.1f}", rate, f"{run['peak_rss_mb']:,.0f}"


def report(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    count = result["trajectories"]
    table = Table(title=f"Step instances from {count:,} trajectories ({result['steps']:,} steps)")
    for column in ("run", "trajectories", "instances", "wall s", "instances/s", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "run" else "right")
    table.add_row(*_row("stream (shipped)", count, result["stream"]))
    table.add_row(*_row("naive (baseline)", result["naive_subset"]["trajectories"], result["naive_subset"]))
    table.add_row(*_row("naive, extrapolated", count, result["naive_extrapolated"]))
    ratios = result["ratios"]
    console = Console()
    console.print(table)
    console.print(
        f"ratios: naive/stream time x{ratios['time_naive_over_stream']:.2f}, "
        f"RSS x{ratios['rss_naive_over_stream']:.2f}; "
        f"throughput stream/naive x{ratios['throughput_stream_over_naive']:.2f}; "
        f"raw-format import {result['raw_import']['ms_per_trajectory']:.1f} ms/trajectory; "
        f"input {result['input_mb']:.0f} MB, output {result['output_mb']:.0f} MB; "
        f"targets met: {result['meets_targets']}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
