"""Benchmark: 80,000 pre-1.0 SWE-agent trajectories -> learnable, length-capped step instances.

Input: parquet shards in the exact schema of the 80k SWE-agent trajectory dataset (``instance_id``,
``model_name``, ``target``, ``trajectory`` as system/user/ai turns, ``exit_status``,
``generated_patch``, ``eval_logs``), synthesized at its shape: 80,036 rows, 26.4 turns per
trajectory on average (a lognormal, 2 to 408), ~70 KB per row. Turns are drawn from a real SWE-agent
0.x trajectory (tests/fixtures/sweagent-0.x: its COMMANDS prompt, issue, ``edit N:M``/``open``/
``create``/``find_file``/``python`` turns and observations with their state lines), each row with
its own issue text so nothing deduplicates away; one in twenty observations is a 10 KB test log.

Measured, each in a fresh subprocess reporting wall time and peak RSS (``ru_maxrss``):

- ``stream``: ``steps build``'s path: ``import_paths`` over the shards (one row group at a time) ->
  ``build_step_dataset`` with the learnability check enforced (``learnable_only``), prompts capped at
  16,384 tokens of the tiny model's tokenizer (trimmed, else dropped), parquet output;
- ``naive`` (baseline): read whole shards, import every row into a list, build every instance in a
  list, check each and count every prompt's tokens, then one ``Table.from_pylist`` + ``write_table``;
  run on a subset and extrapolated linearly (time; RSS above the loaded interpreter).

Targets: <= 10 min and <= 2 GB peak RSS for the 80k trajectories on a 2-core machine.

    .venv/bin/python benchmarks/bench_steps.py [--trajectories 80036] [--baseline 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEGACY = ROOT / "tests" / "fixtures" / "sweagent-0.x" / "pydicom__pydicom-1458.traj"
RESULTS = ROOT / "benchmarks" / "results" / "bench_steps.json"
MAX_PROMPT_TOKENS = 16_384
ROWS_PER_SHARD = 10_000
ROW_GROUP = 500
MEAN_TURNS, MAX_TURNS = 26.4, 408
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _cpu_seconds() -> float:
    """CPU time of this process: on a shared machine, wall time alone overstates the cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _turn_pool() -> tuple[str, str, list[tuple[str, str]], tuple[str, str]]:
    """(system prompt, task, [(ai text, observation)], the submit turn) of the real 0.x trajectory."""
    raw = json.loads(LEGACY.read_text())
    history = [m for m in raw["history"] if not m.get("is_demo")]
    system, task = history[0]["content"], history[1]["content"]
    pairs = []
    for ai, user in zip(history[2::2], history[3::2], strict=False):
        pairs.append((ai["content"], user["content"]))
    submit = (history[-1]["content"], "")
    return system, task, [p for p in pairs if "submit" not in p[0]], submit


def _row(rng: random.Random, index: int, pool) -> dict:
    system, task, pairs, submit = pool
    turns = min(MAX_TURNS, max(2, round(rng.lognormvariate(3.05, 0.55))))
    items = [
        {"cutoff_date": "01.01.2023", "mask": False, "role": "system", "system_prompt": system, "text": None}
    ]
    issue = task.replace("ISSUE:\n", f"ISSUE:\n[{index}] ", 1)
    items.append({"cutoff_date": None, "mask": False, "role": "user", "system_prompt": None, "text": issue})
    for turn in range(turns - 1):
        ai, observation = rng.choice(pairs)
        if rng.random() < 0.05:  # a long test log: the tail of the length distribution
            observation = "E   " + "AssertionError: values differ\n" * 330 + observation
        ai = ai.replace("\n```", f" (step {turn})\n```", 1)
        items.append({"cutoff_date": None, "mask": True, "role": "ai", "system_prompt": None, "text": ai})
        items.append(
            {"cutoff_date": None, "mask": False, "role": "user", "system_prompt": None, "text": observation}
        )
    items.append({"cutoff_date": None, "mask": True, "role": "ai", "system_prompt": None, "text": submit[0]})
    return {
        "instance_id": f"repo__name-{index % 3000}",
        "model_name": f"swe-agent-model-{index % 4}",
        "target": rng.random() < 0.17,
        "trajectory": items,
        "exit_status": "submitted",
        "generated_patch": "diff --git a/x.py b/x.py\n",
        "eval_logs": "",
    }


def make_shards(folder: Path, count: int, seed: int = 0) -> tuple[int, float]:
    """Write ``count`` rows as parquet shards; returns (turn total, megabytes of row text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng, pool = random.Random(seed), _turn_pool()
    folder.mkdir(parents=True, exist_ok=True)
    turns, chars = 0, 0
    for shard, start in enumerate(range(0, count, ROWS_PER_SHARD)):
        path = folder / f"train-{shard:05d}.parquet"
        writer = None
        for group in range(start, min(count, start + ROWS_PER_SHARD), ROW_GROUP):
            rows = [
                _row(rng, i, pool)
                for i in range(group, min(count, start + ROWS_PER_SHARD, group + ROW_GROUP))
            ]
            turns += sum((len(r["trajectory"]) - 2) // 2 + 1 for r in rows)
            chars += sum(
                len(t["text"] or "") + len(t["system_prompt"] or "") for r in rows for t in r["trajectory"]
            )
            table = pa.Table.from_pylist(rows)
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
        writer.close()
    return turns, chars / 2**20


def make_tokenizer(folder: Path) -> Path:
    """The tiny model's tokenizer (byte-level BPE, chat template), trained on the fixture's text."""
    from swe_srl.train.tiny_model import train_tokenizer

    system, task, pairs, _ = _turn_pool()
    texts = [system, task, *(text for pair in pairs for text in pair)]
    train_tokenizer(texts * 4, vocab_size=3000).save_pretrained(folder)
    return folder


def worker_stream(shards: Path, out: Path, tokenizer: Path) -> dict:
    from swe_srl.context import TokenCounter
    from swe_srl.trajectories.importers import ImportReport, import_paths
    from swe_srl.trajectories.steps import StepOptions, build_step_dataset

    options = StepOptions(
        learnable_only=True, max_prompt_tokens=MAX_PROMPT_TOKENS, write_jsonl=False, validation_fraction=0.01
    )
    start = time.perf_counter()
    report = ImportReport()
    stats = build_step_dataset(
        import_paths([shards], report=report, skip_bad=True),
        out,
        options,
        counter=TokenCounter.from_path(tokenizer),
        skipped=report.skipped,
        batch_rows=256,
    )
    seconds = time.perf_counter() - start
    data = stats.to_dict()
    keep = ("trajectories_in", "total_instances", "dropped", "unlearnable", "trimmed", "prompts_counted")
    return {"seconds": seconds, **{key: data[key] for key in keep}, "duplicates": stats.duplicates}


def worker_naive(shards: Path, out: Path, tokenizer: Path, limit: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from swe_srl.context import TokenCounter
    from swe_srl.trajectories.importers import import_record
    from swe_srl.trajectories.io import RawRecord
    from swe_srl.trajectories.learnable import learnability_problems
    from swe_srl.trajectories.steps import step_instances

    counter = TokenCounter.from_path(tokenizer)
    start = time.perf_counter()
    first = sorted(shards.glob("*.parquet"))[0]
    rows = pq.read_table(first).to_pylist()[:limit]
    trajectories = [import_record(RawRecord(str(first), f"row {i}", row)) for i, row in enumerate(rows)]
    instances = [i for t in trajectories for i in step_instances(t)]
    kept = [i for i in instances if not learnability_problems(i) and counter(i.prompt) <= MAX_PROMPT_TOKENS]
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist([i.to_dict() for i in kept]), out / "train.parquet", compression="zstd"
    )
    return {"seconds": time.perf_counter() - start, "instances": len(kept), "trajectories": len(rows)}


def worker_idle() -> dict:
    """The interpreter with the same libraries loaded: the fixed part of every run's RSS."""
    import pyarrow.parquet  # noqa: F401
    import transformers  # noqa: F401

    import swe_srl.trajectories.steps  # noqa: F401

    return {"seconds": 0.0}


def run_worker(*args: str) -> dict:
    """Run one measurement in a fresh interpreter so its peak RSS is its own."""
    command = [sys.executable, __file__, "--worker", *args]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure(count: int, baseline: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_steps_"))
    try:
        start = time.perf_counter()
        turns, text_mb = make_shards(tmp / "shards", count)
        made = time.perf_counter() - start
        shard_mb = sum(p.stat().st_size for p in (tmp / "shards").iterdir()) / 2**20
        tokenizer = make_tokenizer(tmp / "tokenizer")
        stream = run_worker("stream", str(tmp / "shards"), str(tmp / "stream"), str(tokenizer))
        out_mb = sum(p.stat().st_size for p in (tmp / "stream").iterdir()) / 2**20
        naive = run_worker("naive", str(tmp / "shards"), str(tmp / "naive"), str(tokenizer), str(baseline))
        idle = run_worker("idle")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    scale = count / naive["trajectories"]
    fixed = idle["peak_rss_mb"]
    naive_full = {
        "seconds": naive["seconds"] * scale,
        "peak_rss_mb": fixed + (naive["peak_rss_mb"] - fixed) * scale,
    }
    return {
        "trajectories": count,
        "turns": turns,
        "row_text_mb": round(text_mb, 1),
        "shards_mb": round(shard_mb, 1),
        "synthesis_seconds": round(made, 1),
        "max_prompt_tokens": MAX_PROMPT_TOKENS,
        "stream": {**stream, "output_mb": round(out_mb, 1)},
        "instances_per_second": round(stream["total_instances"] / stream["seconds"], 1),
        "naive_subset": naive,
        "naive_extrapolated": naive_full,
        "time_ratio_vs_naive": round(stream["seconds"] / naive_full["seconds"], 3),
        "rss_ratio_vs_naive": round(stream["peak_rss_mb"] / naive_full["peak_rss_mb"], 3),
        "idle_rss_mb": fixed,
        "targets": {"seconds": 600, "peak_rss_mb": 2048},
    }


def report(result: dict) -> None:
    stream, naive = result["stream"], result["naive_extrapolated"]
    rows = [
        ("trajectories (rows) / turns", f"{result['trajectories']:,} / {result['turns']:,}"),
        ("row text / parquet shards", f"{result['row_text_mb']:,.0f} MB / {result['shards_mb']:,.0f} MB"),
        ("instances written", f"{stream['total_instances']:,}"),
        ("dropped (learnability, length)", json.dumps(stream["dropped"])),
        ("prompts trimmed / counted exactly", f"{stream['trimmed']:,} / {stream['prompts_counted']:,}"),
        ("stream: seconds / peak RSS", f"{stream['seconds']:,.1f} s / {stream['peak_rss_mb']:,.0f} MB"),
        ("stream: CPU seconds (whole process)", f"{stream['cpu_seconds']:,.1f} s"),
        ("instances per second", f"{result['instances_per_second']:,.0f}"),
        (
            "naive (extrapolated): seconds / RSS",
            f"{naive['seconds']:,.0f} s / {naive['peak_rss_mb']:,.0f} MB",
        ),
        ("stream / naive: time, RSS", f"{result['time_ratio_vs_naive']}x, {result['rss_ratio_vs_naive']}x"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=80_036)
    parser.add_argument("--baseline", type=int, default=2000)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "idle":
            result = worker_idle()
        elif kind == "stream":
            result = worker_stream(Path(rest[0]), Path(rest[1]), Path(rest[2]))
        else:
            result = worker_naive(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb(), "cpu_seconds": _cpu_seconds()}))
        return
    report(measure(args.trajectories, args.baseline))


if __name__ == "__main__":
    main()
