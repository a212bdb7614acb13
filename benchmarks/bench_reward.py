"""Throughput of the SRL reward's similarity on real expert actions.

Pairs: every ordered pair of two different steps' canonical actions within each fixture
trajectory (a student imitating one step, scored against another step of the same task).
Measured in one run, each against stdlib difflib (``SequenceMatcher(autojunk=False).ratio()``):

- stdlib difflib, one core (the baseline);
- cydifflib (Cython-compiled difflib), one core;
- ``swe_srl.reward.similarity`` (the C extension when built), one core;
- ``batch_step_rewards`` (format check + similarity) in-process and with a 2-process pool.

Single-core rows are timed on process CPU time (the machine is shared: other jobs cost us wall
time, not CPU time); the batch rows on wall time, since a pool's work happens in other
processes. Each figure's "vs stdlib" divides by the stdlib's single-core rate of the same run.
Parity is asserted in the same run: every value must equal the stdlib's exactly.
Prints a rich table and writes ``benchmarks/results/bench_reward.json``.
"""

from __future__ import annotations

import difflib
import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl import reward
from swe_srl.actions import FormatError, action_from_tool_call, parse_strict, render_action
from swe_srl.records import Action

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "trajectories"
RESULTS = ROOT / "benchmarks" / "results" / "bench_reward.json"
_FENCE = re.compile(r"```mswea_bash_command[ \t]*\n(.*?)\n?```", re.DOTALL)
BATCH_COPIES = 20  # the batch runs see each pair this many times (a B x G batch of realistic size)


@dataclass
class Row:
    name: str
    clock: str  # "cpu" (process CPU time, single core) or "wall" (the pooled runs)
    pairs: int
    seconds: float
    pairs_per_s: float
    vs_stdlib: float
    parity: str


def trajectory_actions(fixtures: Path) -> list[list[str]]:
    """The canonical action texts of each fixture trajectory, in step order."""
    trajectories = []
    for path in sorted(fixtures.glob("*.traj")):
        data = json.loads(path.read_text())
        calls = [c["function"] for m in data["history"] for c in m.get("tool_calls") or []]
        trajectories.append([render_action(action_from_tool_call(f["name"], f["arguments"])) for f in calls])
    messages = json.loads((fixtures / "mini_github_issue.traj.json").read_text())
    commands = [c for m in messages if m["role"] == "assistant" for c in _FENCE.findall(m["content"])]
    trajectories.append([render_action(Action("bash", {"command": c})) for c in commands])
    return trajectories


def action_pairs(trajectories: list[list[str]]) -> list[tuple[str, str]]:
    return [
        (a, b) for steps in trajectories for i, a in enumerate(steps) for j, b in enumerate(steps) if i != j
    ]


def best_time(
    run: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Best time of ``repeats`` runs on ``clock`` (the machine is shared; the minimum is the least
    disturbed run)."""
    times = []
    for _ in range(repeats):
        start = clock()
        run()
        times.append(clock() - start)
    return min(times)


def ratios_with(function: Callable[[str, str], float], pairs: list[tuple[str, str]]) -> list[float]:
    return [function(a, b) for a, b in pairs]


def stdlib_ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def cydifflib_ratio_function() -> Callable[[str, str], float] | None:
    try:
        import cydifflib
    except ImportError:
        return None
    return lambda a, b: cydifflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def measure_single_core(pairs: list[tuple[str, str]], rounds: int = 3) -> list[Row]:
    """Single-core pairs/s on this process's CPU time (other jobs on a shared machine take wall
    time, not our CPU time). The implementations take turns in each round, each keeps its best."""
    expected = ratios_with(stdlib_ratio, pairs)
    named = [
        ("stdlib difflib (1 core)", stdlib_ratio, 1),
        ("cydifflib (1 core)", cydifflib_ratio_function(), 1),
        (f"swe_srl similarity, {reward.BACKEND} backend (1 core)", reward.similarity, 10),
    ]
    named = [(name, function, repeats) for name, function, repeats in named if function is not None]
    parities = []
    for name, function, _ in named:
        got = ratios_with(function, pairs)
        same = sum(x == y for x, y in zip(got, expected, strict=True))
        if name.startswith("swe_srl"):
            assert got == expected, f"{len(pairs) - same} pairs differ from difflib"
        parities.append("reference" if function is stdlib_ratio else f"{same}/{len(pairs)} equal")
    best = [float("inf")] * len(named)
    for _ in range(rounds):
        for n, (_, function, repeats) in enumerate(named):
            seconds = best_time(lambda f=function: ratios_with(f, pairs), repeats, time.process_time)
            best[n] = min(best[n], seconds)
    base = best[0]
    return [
        Row(name, "cpu", len(pairs), seconds, len(pairs) / seconds, base / seconds, parity)
        for (name, _, _), seconds, parity in zip(named, best, parities, strict=True)
    ]


def stdlib_step_reward(text: str, target: str) -> float:
    """The step reward computed with stdlib difflib: the batch runs' reference."""
    try:
        action = parse_strict(text).action
    except FormatError:
        return reward.FORMAT_PENALTY
    return stdlib_ratio(render_action(action), target)


def measure_batches(pairs: list[tuple[str, str]], base_rate: float) -> list[Row]:
    """batch_step_rewards on completions that wrap the student action in a monologue.

    Actions of tools outside the schema (the marshmallow demo's ``open``, ``edit``...) are format
    errors there, so part of the batch scores -1 without a similarity computation.
    """
    texts = [f"<think>\nNext I run this.\n</think>\n{a}" for a, _ in pairs] * BATCH_COPIES
    targets = [b for _, b in pairs] * BATCH_COPIES
    expected = [stdlib_step_reward(t, g) for t, g in zip(texts[: len(pairs)], targets, strict=False)]
    rows = []
    for processes in (1, 2):
        got = reward.batch_step_rewards(texts, targets, processes=processes)  # also starts the pool
        assert got == expected * BATCH_COPIES, "batch rewards differ from the stdlib step reward"
        format_errors = got.count(reward.FORMAT_PENALTY)
        seconds = best_time(lambda p=processes: reward.batch_step_rewards(texts, targets, processes=p), 5)
        rate = len(texts) / seconds
        name = f"batch_step_rewards, {processes} process{'es' if processes > 1 else ''} (parse + reward)"
        parity = f"all equal ({format_errors} format errors)"
        rows.append(Row(name, "wall", len(texts), seconds, rate, rate / base_rate, parity))
    return rows


def pool_start_seconds() -> float:
    """Wall time of a first pooled call: starting the fork server and two workers."""
    reward.shutdown_pools()
    texts = ["<think>x</think>\n<function=submit>\n</function>"] * reward.PARALLEL_MIN_PAIRS
    start = time.perf_counter()
    reward.batch_step_rewards(texts, ["<function=submit>\n</function>"] * len(texts), processes=2)
    return time.perf_counter() - start


def print_table(rows: list[Row], mean_length: float, start_s: float) -> None:
    table = Table(title=f"SRL reward similarity on real action pairs (mean {mean_length:.0f} chars)")
    for column in ("implementation", "clock", "pairs", "seconds", "pairs/s", "vs stdlib", "parity"):
        table.add_column(column, justify="left" if column in ("implementation", "parity") else "right")
    for r in rows:
        rate = f"{r.pairs_per_s:,.0f}"
        table.add_row(
            r.name, r.clock, str(r.pairs), f"{r.seconds:.4f}", rate, f"{r.vs_stdlib:.1f}x", r.parity
        )
    console = Console(width=150)
    console.print(table)
    console.print(f"pool start (fork server + 2 workers, first call): {start_s:.3f} s")


def main() -> None:
    trajectories = trajectory_actions(FIXTURES)
    pairs = action_pairs(trajectories)
    lengths = [len(a) for steps in trajectories for a in steps]
    pair_lengths = [len(a) + len(b) for a, b in pairs]
    rows = measure_single_core(pairs)
    rows += measure_batches(pairs, rows[0].pairs_per_s)
    start_s = pool_start_seconds()
    reward.shutdown_pools()
    mean_length = statistics.mean(lengths)
    print_table(rows, mean_length, start_s)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "bench_reward",
        "baseline": "stdlib difflib SequenceMatcher(None, a, b, autojunk=False).ratio(), 1 core",
        "backend": reward.BACKEND,
        "actions": len(lengths),
        "pairs": len(pairs),
        "mean_action_chars": round(mean_length, 1),
        "max_action_chars": max(lengths),
        "mean_pair_chars": round(statistics.mean(pair_lengths), 1),
        "batch_copies": BATCH_COPIES,
        "pool_start_s": round(start_s, 4),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "results": [asdict(r) for r in rows],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
