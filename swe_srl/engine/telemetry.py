"""Throughput telemetry of a run (``telemetry.json`` in its folder, shown by ``swe-srl report``).

Collected by the driver from every recorded job: sandbox start times, episode and grading times,
tasks per hour, infrastructure errors by cause, node-lost retries, and tokens per second when the
policy reports its usage (``completion_tokens`` and ``generation_seconds``). A resumed run keeps
the summaries of the invocations before it under ``history``.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

from swe_srl.engine.jobs import JobResult

FILE_NAME = "telemetry.json"


def distribution(values: list[float]) -> dict[str, float]:
    """count, mean, p50, p90, p99 and max (nearest-rank percentiles); empty for no values."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 3),
        "p50": round(rank(0.50), 3),
        "p90": round(rank(0.90), 3),
        "p99": round(rank(0.99), 3),
        "max": round(ordered[-1], 3),
    }


class Telemetry:
    """Accumulates what the driver records; :meth:`summary` is the JSON of one invocation."""

    def __init__(self, executor: str, workers: int):
        self.executor, self.workers = executor, workers
        self.began = time.monotonic()
        self.tasks = 0
        self.causes: Counter[str] = Counter()
        self.nodes: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.starts: list[float] = []
        self.totals: list[float] = []
        self.phases: dict[str, list[float]] = {}
        self.usage: Counter[str] = Counter()

    def add(self, result: JobResult, cause: str) -> None:
        """One recorded job; ``cause`` is the infrastructure cause of what was recorded ("" if none)."""
        self.tasks += 1
        if cause:
            self.causes[cause] += 1
        if result.node:
            self.nodes[result.node] += 1
        timings = result.timings
        self.starts += list(timings.sandbox_starts)
        if timings.total:
            self.totals.append(timings.total)
        for phase, seconds in timings.phases.items():
            self.phases.setdefault(phase, []).append(seconds)
        self.usage.update({k: v for k, v in timings.usage.items() if isinstance(v, int | float)})

    def retried(self, why: str) -> None:
        self.retries[why] += 1

    def summary(self) -> dict[str, Any]:
        wall = time.monotonic() - self.began
        errors = sum(self.causes.values())
        tokens, seconds = self.usage.get("completion_tokens", 0), self.usage.get("generation_seconds", 0)
        return {
            "executor": self.executor,
            "workers": self.workers,
            "nodes": dict(self.nodes),
            "tasks": self.tasks,
            "wall_seconds": round(wall, 3),
            "tasks_per_hour": round(3600 * self.tasks / wall, 1) if wall > 0 else 0.0,
            "sandbox_start_seconds": distribution(self.starts),
            "task_seconds": distribution(self.totals),
            "phase_seconds": {name: distribution(values) for name, values in sorted(self.phases.items())},
            "infrastructure_errors": {
                "total": errors,
                "rate": round(errors / self.tasks, 4) if self.tasks else 0.0,
                "by_cause": dict(sorted(self.causes.items())),
            },
            "retries": dict(self.retries),
            "completion_tokens": tokens,
            "tokens_per_second": round(tokens / seconds, 1) if tokens and seconds else None,
        }


def write_telemetry(folder: Path, summary: dict[str, Any], *, name: str = FILE_NAME) -> Path:
    """Write ``telemetry.json`` (keeping earlier invocations' summaries under ``history``)."""
    from swe_srl.eval.report import write_json_atomic

    path = Path(folder) / name
    history: list[dict[str, Any]] = []
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            history = [*old.pop("history", []), old]
        except (OSError, ValueError, AttributeError):
            history = []  # unreadable: start over rather than fail the run
    write_json_atomic(path, {**summary, "history": history})
    return path


def read_telemetry(folder: Path, *, name: str = FILE_NAME) -> dict[str, Any] | None:
    path = Path(folder) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
