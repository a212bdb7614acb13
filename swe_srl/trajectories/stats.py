"""Counts and length distributions of trajectory collections and step-instance datasets.

Collectors are fed one item at a time (streaming); ``to_dict`` gives the JSON written beside the
data, ``*_table`` the rich tables the CLI prints.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from swe_srl.context import TrimReport
    from swe_srl.records import StepInstance, Trajectory

PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[int | float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, linearly interpolated; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low))


def distribution(values: Iterable[int | float]) -> dict[str, float]:
    """Mean, percentiles and max of ``values``."""
    ordered = sorted(values)
    summary = {"mean": (sum(ordered) / len(ordered)) if ordered else 0.0}
    summary.update({f"p{q}": percentile(ordered, q) for q in PERCENTILES})
    summary["max"] = float(ordered[-1]) if ordered else 0.0
    return summary


@dataclass
class TrajectoryStats:
    """Counts over a trajectory collection (``swe-srl trajectories stats``)."""

    trajectories: int = 0
    steps: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    resolved: int = 0
    unresolved: int = 0
    unknown: int = 0
    lengths: list[int] = field(default_factory=list)

    def add(self, traj: Trajectory) -> None:
        self.trajectories += 1
        self.steps += len(traj.steps)
        self.lengths.append(len(traj.steps))
        self.formats[traj.source_format] += 1
        self.tools.update(step.action.tool for step in traj.steps)
        if traj.resolved is None:
            self.unknown += 1
        elif traj.resolved:
            self.resolved += 1
        else:
            self.unresolved += 1

    @property
    def resolved_share(self) -> float | None:
        """Share resolved among trajectories whose outcome is known."""
        known = self.resolved + self.unresolved
        return self.resolved / known if known else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trajectories": self.trajectories,
            "steps": self.steps,
            "tools": dict(self.tools.most_common()),
            "formats": dict(self.formats.most_common()),
            "resolved": self.resolved,
            "unresolved": self.unresolved,
            "unknown": self.unknown,
            "resolved_share": self.resolved_share,
            "steps_per_trajectory": distribution(self.lengths),
        }


def collect_trajectory_stats(trajectories: Iterable[Trajectory]) -> TrajectoryStats:
    stats = TrajectoryStats()
    for traj in trajectories:
        stats.add(traj)
    return stats


@dataclass
class StepStats:
    """Counts over a step-instance dataset (``swe-srl steps build``)."""

    trajectories_in: int = 0
    skipped_unresolved: int = 0
    duplicates: int = 0
    unlearnable: Counter[str] = field(default_factory=Counter)  # problems found (kept or dropped)
    dropped: Counter[str] = field(default_factory=Counter)  # instances dropped, by reason
    skipped_records: list[str] = field(default_factory=list)  # malformed input records (--skip-bad)
    prompts_counted: int = 0  # prompts tokenized exactly (the others fit by their UTF-8 length alone)
    trimmed: int = 0  # prompts shortened to the token limit
    observations_trimmed: int = 0
    rounds_dropped: int = 0
    trajectories: Counter[str] = field(default_factory=Counter)  # per split
    instances: Counter[str] = field(default_factory=Counter)  # per split
    tools: Counter[str] = field(default_factory=Counter)
    prompt_chars: list[int] = field(default_factory=list)
    target_chars: list[int] = field(default_factory=list)

    def add_trajectory(self, split: str) -> None:
        self.trajectories[split] += 1

    def add_instance(self, instance: StepInstance, split: str) -> None:
        self.instances[split] += 1
        self.tools[instance.tool] += 1
        self.prompt_chars.append(sum(len(message["content"]) for message in instance.prompt))
        self.target_chars.append(len(instance.target))

    def add_trim(self, report: TrimReport) -> None:
        self.prompts_counted += report.tokens_before >= 0
        if report.trimmed:
            self.trimmed += 1
            self.observations_trimmed += report.observations_trimmed
            self.rounds_dropped += report.rounds_dropped

    @property
    def total_instances(self) -> int:
        return sum(self.instances.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "trajectories_in": self.trajectories_in,
            "skipped_unresolved": self.skipped_unresolved,
            "duplicates": self.duplicates,
            "unlearnable": dict(self.unlearnable.most_common()),
            "dropped": dict(self.dropped.most_common()),
            "skipped_records": len(self.skipped_records),
            "skipped_examples": self.skipped_records[:20],
            "prompts_counted": self.prompts_counted,
            "trimmed": self.trimmed,
            "observations_trimmed": self.observations_trimmed,
            "rounds_dropped": self.rounds_dropped,
            "trajectories": dict(self.trajectories),
            "instances": dict(self.instances),
            "total_instances": self.total_instances,
            "tools": dict(self.tools.most_common()),
            "prompt_chars": distribution(self.prompt_chars),
            "target_chars": distribution(self.target_chars),
        }

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def _table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def _dist_text(summary: dict[str, float]) -> str:
    return " / ".join(f"{summary[f'p{q}']:,.0f}" for q in PERCENTILES) + f" (max {summary['max']:,.0f})"


def trajectory_table(stats: TrajectoryStats) -> Table:
    data = stats.to_dict()
    share = "n/a" if stats.resolved_share is None else f"{stats.resolved_share:.1%}"
    rows = [
        ("trajectories", f"{stats.trajectories:,}"),
        ("steps", f"{stats.steps:,}"),
        ("resolved / unresolved / unknown", f"{stats.resolved} / {stats.unresolved} / {stats.unknown}"),
        ("resolved share (known)", share),
        ("steps per trajectory p50/p90/p99", _dist_text(data["steps_per_trajectory"])),
    ]
    rows += [(f"format {name}", f"{count:,}") for name, count in stats.formats.most_common()]
    rows += [(f"tool {name}", f"{count:,}") for name, count in stats.tools.most_common()]
    return _table("Trajectories", rows)


def step_table(stats: StepStats) -> Table:
    data = stats.to_dict()
    rows = [
        ("trajectories read", f"{stats.trajectories_in:,}"),
        ("malformed records skipped", f"{len(stats.skipped_records):,}"),
        ("skipped (not resolved)", f"{stats.skipped_unresolved:,}"),
        ("instances train / validation", f"{stats.instances['train']:,} / {stats.instances['validation']:,}"),
        (
            "trajectories train / validation",
            f"{stats.trajectories['train']:,} / {stats.trajectories['validation']:,}",
        ),
        ("duplicates dropped", f"{stats.duplicates:,}"),
        ("prompts trimmed to the token limit", f"{stats.trimmed:,}"),
        ("prompt chars p50/p90/p99", _dist_text(data["prompt_chars"])),
        ("target chars p50/p90/p99", _dist_text(data["target_chars"])),
    ]
    rows += [(f"dropped: {reason}", f"{count:,}") for reason, count in stats.dropped.most_common()]
    rows += [(f"unlearnable: {reason}", f"{count:,}") for reason, count in stats.unlearnable.most_common()]
    total = max(1, stats.total_instances)
    rows += [
        (f"tool {name}", f"{count:,} ({count / total:.1%})") for name, count in stats.tools.most_common()
    ]
    return _table("Step instances", rows)
