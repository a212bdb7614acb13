"""Resolve rates per group of tasks (repository, difficulty): small pure functions over an eval run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from swe_srl.report.collect import ERROR_STATUS, UNKNOWN, EvalRun

DIFFICULTY_ORDER = ("easy", "medium", "hard")


@dataclass(frozen=True)
class GroupRate:
    """Resolved tasks out of all tasks in one group (a repository, a difficulty)."""

    group: str
    resolved: int
    total: int

    @property
    def rate(self) -> float:
        return self.resolved / self.total if self.total else 0.0


def group_rates(run: EvalRun, by: str) -> list[GroupRate]:
    """Resolve rate of ``run`` per ``by`` ("repo" or "difficulty") over judged tasks, in a stable order."""
    if by not in ("repo", "difficulty"):
        raise ValueError(f"group by repo or difficulty, not {by!r}")
    counts: dict[str, list[int]] = {}
    for task in run.tasks:
        if task.status == ERROR_STATUS:  # not judged: the machinery failed, not the model
            continue
        tally = counts.setdefault(getattr(task, by), [0, 0])
        tally[0] += int(task.resolved)
        tally[1] += 1
    return [GroupRate(name, *counts[name]) for name in group_order(counts, by)]


def group_order(names: Iterable[str], by: str) -> list[str]:
    """Difficulties easy -> hard then others; repositories alphabetically; ``unknown`` last."""
    names = set(names)

    def key(name: str) -> tuple[int, int, str]:
        rank = DIFFICULTY_ORDER.index(name) if by == "difficulty" and name in DIFFICULTY_ORDER else 99
        return (name == UNKNOWN, rank, name)

    return sorted(names, key=key)
