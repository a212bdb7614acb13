"""Scale-out: the Ray executor's overhead on one machine, and a projection to 8 nodes x 32 sandboxes.

1. **Measured.** The gold policy on a suite (every task: agent loop + grading in fresh sandboxes)
   through the local executor and through the Ray executor on a one-machine cluster (a head without
   CPUs and two worker raylets sharing this machine's cores), at the same concurrency. Runs alternate
   (local, Ray, local, Ray, ...) after a warm-up so caches favour neither; the median wall time of
   each is compared. Target: Ray's overhead at most 10% of the wall time.
2. **Projected.** A discrete-event simulation of ``--tasks-to-project`` tasks on ``nodes`` nodes with
   ``slots`` concurrent sandboxes each, using the per-task costs measured in (1): task times drawn
   from the measured ones (bootstrap), each task's sandbox starts competing for the node's start
   slots (the engine's cap), plus Ray's measured per-task overhead. It reports the projected wall
   time, tasks/hour and the efficiency against perfect scaling. Measured costs are this suite's on
   this machine (small repositories, a scripted policy): real SWE-bench tasks with a served model
   take minutes, which makes the fixed per-task overhead matter less, not more. The model assumes a
   core per sandbox (``--task-cpus 1``) and both sandbox starts of a task at its beginning; with
   few tasks per slot the last wave is partly empty, which is what lowers the efficiency.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--suite bundled] [--workers 2] [--repeats 2]``
Writes ``benchmarks/results/bench_scale.json``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl.engine.loop import EngineSettings
from swe_srl.engine.telemetry import read_telemetry
from swe_srl.eval.runner import EvalConfig, run_eval
from swe_srl.tasks.loader import read_tasks

RESULTS = Path(__file__).resolve().parent / "results" / "bench_scale.json"
TARGET_OVERHEAD = 0.10


def one_run(suite: str, workers: int, executor: str) -> dict:
    """One timed eval; per-task durations and sandbox start times from its files."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        engine = EngineSettings(executor=executor, workers=workers, task_memory_gb=0.25)
        start = time.perf_counter()
        report = run_eval(
            EvalConfig(tasks=suite, policy="gold", out=Path(tmp), workers=workers, engine=engine)
        )
        seconds = time.perf_counter() - start
        telemetry = read_telemetry(Path(tmp)) or {}
    return {
        "executor": executor,
        "seconds": round(seconds, 2),
        "tasks": report.total,
        "resolved": report.resolved,
        "task_seconds": [t.duration for t in report.tasks],
        "sandbox_start": telemetry.get("sandbox_start_seconds", {}),
        "starts_per_task": telemetry.get("sandbox_start_seconds", {}).get("count", 0) / max(1, report.total),
    }


def measure(suite: str, workers: int, repeats: int) -> dict:
    """Alternating local and Ray runs on a one-machine cluster; medians and the overhead."""
    import ray
    from ray.cluster_utils import Cluster

    from swe_srl.sandbox.workspace import prepare_base_repo

    for task in read_tasks(suite).tasks:  # warm-up: every prepared repository cached for both
        prepare_base_repo(task)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    per_node = max(1, workers // 2)
    for index in range(2):
        cluster.add_node(num_cpus=per_node, resources={f"worker{index}": 1})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    runs: list[dict] = []
    try:
        one_run(suite, workers, "ray")  # warm-up: Ray's worker processes started and imports loaded
        for _ in range(repeats):
            runs.append(one_run(suite, workers, "local"))
            runs.append(one_run(suite, workers, "ray"))
    finally:
        ray.shutdown()
        cluster.shutdown()
    local = statistics.median(r["seconds"] for r in runs if r["executor"] == "local")
    on_ray = statistics.median(r["seconds"] for r in runs if r["executor"] == "ray")
    tasks = runs[0]["tasks"]
    return {
        "runs": [{k: v for k, v in r.items() if k != "task_seconds"} for r in runs],
        "local_seconds": local,
        "ray_seconds": on_ray,
        "overhead_fraction": round((on_ray - local) / local, 4),
        "per_task_overhead_seconds": round(max(0.0, on_ray - local) * workers / tasks, 4),
        "task_seconds": [s for r in runs if r["executor"] == "ray" for s in r["task_seconds"]],
        "sandbox_start_p50": runs[-1]["sandbox_start"].get("p50", 0.0),
        "starts_per_task": runs[-1]["starts_per_task"],
    }


def simulate(costs: dict, nodes: int, slots: int, start_cap: int, tasks: int, seed: int = 0) -> dict:
    """Projected wall time of ``tasks`` tasks on ``nodes`` x ``slots`` sandboxes (see the docstring)."""
    rng = random.Random(seed)
    free_at = [[0.0] * slots for _ in range(nodes)]  # when each sandbox slot of each node frees up
    starts = [[0.0] * start_cap for _ in range(nodes)]  # the node's start slots
    busy = 0.0
    finish = 0.0
    for index in range(tasks):
        node = index % nodes  # SPREAD: round robin over nodes
        slot = min(range(slots), key=free_at[node].__getitem__)
        begin = free_at[node][slot] + costs["per_task_overhead_seconds"]
        service = rng.choice(costs["task_seconds"])
        for _ in range(round(costs["starts_per_task"])):  # each start waits for a start slot
            heapq.heapify(starts[node])
            slot_free = heapq.heappop(starts[node])
            started = max(begin, slot_free)
            heapq.heappush(starts[node], started + costs["sandbox_start_p50"])
            begin = started
        end = begin + service
        free_at[node][slot] = end
        busy += service
        finish = max(finish, end)
    ideal = busy / (nodes * slots)
    return {
        "nodes": nodes,
        "sandboxes_per_node": slots,
        "tasks": tasks,
        "projected_seconds": round(finish, 1),
        "tasks_per_hour": round(3600 * tasks / finish, 1),
        "efficiency_vs_perfect_scaling": round(ideal / finish, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="bundled")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--tasks-to-project", type=int, nargs="+", default=[500, 5000], help="SWE-bench Verified has 500"
    )
    args = parser.parse_args()
    costs = measure(args.suite, args.workers, args.repeats)
    projections = [
        simulate(costs, nodes, 32, EngineSettings().start_cap, count)
        for count in args.tasks_to_project
        for nodes in (1, 8)
    ]
    console = Console()
    table = Table(
        title=f"gold policy on {args.suite}, {args.workers} tasks at once: local vs Ray (one machine)"
    )
    for column in ("executor", "median seconds", "overhead vs local"):
        table.add_column(column, justify="right")
    table.add_row("local", f"{costs['local_seconds']:.1f}", "baseline")
    met = "meets" if costs["overhead_fraction"] <= TARGET_OVERHEAD else "misses"
    table.add_row(
        "ray", f"{costs['ray_seconds']:.1f}", f"{costs['overhead_fraction']:+.1%} ({met} the 10% target)"
    )
    console.print(table)
    projected = Table(title="projection from the measured per-task costs")
    for column in ("tasks", "nodes x sandboxes", "projected wall", "tasks/hour", "efficiency"):
        projected.add_column(column, justify="right")
    for p in projections:
        projected.add_row(
            str(p["tasks"]),
            f"{p['nodes']} x {p['sandboxes_per_node']}",
            f"{p['projected_seconds']:.0f}s",
            f"{p['tasks_per_hour']:.0f}",
            f"{p['efficiency_vs_perfect_scaling']:.1%}",
        )
    console.print(projected)
    result = {
        "suite": args.suite,
        "workers": args.workers,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}",
        "measured": {k: v for k, v in costs.items() if k != "task_seconds"},
        "measured_task_seconds": {
            "count": len(costs["task_seconds"]),
            "median": statistics.median(costs["task_seconds"]),
            "max": max(costs["task_seconds"]),
        },
        "projections": projections,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
