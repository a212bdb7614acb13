"""Per-instance held-out step rewards: ``RUN/heldout_rewards.jsonl``, one scored completion a line.

A training run's ``metrics.jsonl`` holds the held-out *mean* step reward; this file keeps every
score behind such a mean, so a report can draw the distribution (how many completions break the
format at -1, how many match the expert exactly at 1). ``model`` names which checkpoint wrote the
completion ("init", "sft", "srl", ...), so one file can compare models on the same instances.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from swe_srl.records import RecordError

FILE_NAME = "heldout_rewards.jsonl"


@dataclass(frozen=True)
class StepReward:
    """The SRL reward of one greedy completion on one held-out step instance."""

    model: str
    instance_id: str
    step_index: int
    reward: float


def write_step_rewards(path: Path, rewards: Iterable[StepReward]) -> Path:
    """Write (replace) the file through a temporary name, so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for item in rewards:
            handle.write(json.dumps(asdict(item)) + "\n")
    tmp.replace(path)
    return path


def _parse(data: object, source: str, line: int) -> StepReward:
    record = f"line {line}"
    if not isinstance(data, dict):
        raise RecordError("expected a JSON object", source=source, record=record)
    for name, kind in (("model", str), ("instance_id", str), ("step_index", int), ("reward", (int, float))):
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RecordError(
                f"missing or not a {getattr(kind, '__name__', 'number')}",
                source=source,
                record=record,
                field_name=name,
            )
    reward = float(data["reward"])
    if not math.isfinite(reward):
        raise RecordError("not a finite number", source=source, record=record, field_name="reward")
    return StepReward(data["model"], data["instance_id"], data["step_index"], reward)


def read_step_rewards(path: Path) -> list[StepReward]:
    """Every scored completion of the file; a malformed line is an error naming file and line."""
    rewards = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as err:
            raise RecordError(f"not valid JSON: {err}", source=str(path), record=f"line {number}") from None
        rewards.append(_parse(data, str(path), number))
    return rewards
