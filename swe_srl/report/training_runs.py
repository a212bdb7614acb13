"""Reading training runs (``swe-srl train ... --out``) and lining up runs that continue each other.

A run has ``metrics.jsonl`` (one record per trainer log, ``kind`` "train" or "eval"), or only a
transformers ``trainer_state.json`` (its ``log_history``); ``heldout_rewards.jsonl`` beside it adds
per-instance held-out step rewards and ``config.yaml`` the resolved configuration. A run is
finished when its ``final/`` model was saved.

Runs form a chain when one starts from another's ``final/`` model (``model.path``, or
``rlvr.init`` for RLVR): SFT -> SRL -> RLVR. Each run's steps are then drawn after its
predecessor's last step (``TrainingRun.offset``), so one x axis reads as the whole curriculum.

A log whose step goes backwards (a run resumed from an earlier checkpoint, or trained again
into the same folder) replaces the records from that step on: the newest session wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from swe_srl.jsonl import read_records
from swe_srl.records import RecordError
from swe_srl.report.step_rewards import FILE_NAME as STEP_REWARDS_FILE
from swe_srl.report.step_rewards import StepReward, read_step_rewards

SRL_KEYS = ("rewards/srl_reward/mean", "dynamic_sampling/kept_fraction", "srl/format_error_rate")
METHODS = ("sft", "srl", "rlvr")


@dataclass(frozen=True)
class MetricPoint:
    """The numbers one trainer log line holds at one optimizer step."""

    step: int
    values: dict[str, float]


@dataclass(frozen=True)
class TrainingRun:
    """A training run's logged curves and held-out scores."""

    path: Path
    label: str
    method: str  # "sft", "srl" (GRPO on the SRL reward) or "rlvr" (GRPO on the grader's outcome)
    train: tuple[MetricPoint, ...]
    held_out: tuple[MetricPoint, ...]
    step_rewards: tuple[StepReward, ...]
    source: str  # the file the curves came from
    final_model: Path | None
    init: Path | None = None  # the model it started from, as its config names it
    offset: int = 0  # steps of the runs before it in a chain
    after: str = ""  # label of the run it continues

    @property
    def finished(self) -> bool:
        return self.final_model is not None

    @property
    def last_step(self) -> int:
        return max((p.step for p in (*self.train, *self.held_out)), default=0)

    def series(self, key: str, *, held_out: bool = False, aligned: bool = False) -> list[tuple[int, float]]:
        """(step, value) of one metric, oldest first; ``aligned`` adds the chain's offset."""
        points = self.held_out if held_out else self.train
        shift = self.offset if aligned else 0
        return [(p.step + shift, p.values[key]) for p in points if key in p.values]


def _need_int(data: dict, name: str, source: str, record: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecordError("missing or not int", source=source, record=record, field_name=name)
    return value


def _numbers(record: dict) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in record.items()
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and k not in ("step", "time")
        and math.isfinite(v)
    }


def _metrics_records(path: Path) -> list[dict]:
    """The JSON objects of ``metrics.jsonl``; a torn last line (a crash mid-write) is skipped."""
    records = []
    for number, data in read_records(path):
        if not isinstance(data, dict):
            raise RecordError("expected a JSON object", source=str(path), record=f"line {number}")
        _need_int(data, "step", str(path), f"line {number}")
        records.append(data)
    return records


def _trainer_state_records(path: Path) -> list[dict]:
    """transformers' ``log_history`` in the ``metrics.jsonl`` shape (eval_* keys -> held-out)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise RecordError(f"not valid JSON: {err}", source=str(path)) from None
    history = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(history, list):
        raise RecordError("missing or not a list", source=str(path), field_name="log_history")
    records = []
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise RecordError("expected an object", source=str(path), record=f"log_history[{index}]")
        step = _need_int(entry, "step", str(path), f"log_history[{index}]")
        records.append({**entry, "kind": "train", "step": step})
    return records


def _newest_session(points: list[MetricPoint]) -> tuple[MetricPoint, ...]:
    """Points in log order, where a step going backwards drops the older points from that step on."""
    kept: list[MetricPoint] = []
    for point in points:
        if kept and point.step < kept[-1].step:
            kept = [p for p in kept if p.step < point.step]
        kept.append(point)
    return tuple(kept)


def _split_points(records: list[dict]) -> tuple[tuple[MetricPoint, ...], tuple[MetricPoint, ...]]:
    """Trainer logs and held-out scores; a trainer's own ``evaluate()`` log (``eval_*`` keys) is held-out."""
    train, held_out = [], []
    for record in records:
        values = _numbers(record)
        prefixed = {k.removeprefix("eval_"): v for k, v in values.items() if k.startswith("eval_")}
        if record.get("kind") == "eval":
            held_out.append(MetricPoint(record["step"], values))
        elif prefixed:
            held_out.append(MetricPoint(record["step"], prefixed))
        else:
            train.append(MetricPoint(record["step"], values))
    return _newest_session(train), _newest_session(held_out)


def trainer_state(run: Path) -> Path | None:
    if (run / "trainer_state.json").is_file():
        return run / "trainer_state.json"
    checkpoints = sorted(
        run.glob("checkpoint-*/trainer_state.json"), key=lambda p: _checkpoint_number(p.parent)
    )
    return checkpoints[-1] if checkpoints else None


def _checkpoint_number(folder: Path) -> int:
    tail = folder.name.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def _method(train: Sequence[MetricPoint]) -> str:
    keys = {key for point in train for key in point.values}
    if not keys & {"reward", *SRL_KEYS}:
        return "sft"
    return "srl" if keys & set(SRL_KEYS) else "rlvr"


def _init_model(run: Path) -> Path | None:
    """The model the run started from (``rlvr.init`` or ``model.path`` of its ``config.yaml``)."""
    config = run / "config.yaml"
    if not config.is_file():
        return None
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # the curves are still worth drawing; only the chain is unknown
    sections: Any = data if isinstance(data, dict) else {}
    for section, key in (("rlvr", "init"), ("model", "path")):
        value = (sections.get(section) or {}).get(key) if isinstance(sections.get(section), dict) else None
        if isinstance(value, str) and value:
            return Path(value)
    return None


def read_training_run(run: Path, label: str = "") -> TrainingRun:
    """One training run folder (``metrics.jsonl``, else the newest ``trainer_state.json``)."""
    metrics = run / "metrics.jsonl"
    state = trainer_state(run)
    if metrics.is_file():
        records, source = _metrics_records(metrics), metrics
    elif state is not None:
        records, source = _trainer_state_records(state), state
    else:
        raise RecordError("no metrics.jsonl or trainer_state.json: not a training run", source=str(run))
    train, held_out = _split_points(records)
    rewards_file = run / STEP_REWARDS_FILE
    step_rewards = tuple(read_step_rewards(rewards_file)) if rewards_file.is_file() else ()
    final = run / "final"
    return TrainingRun(
        path=run,
        label=label or run.name,
        method=_method(train),
        train=train,
        held_out=held_out,
        step_rewards=step_rewards,
        source=str(source),
        final_model=final if final.is_dir() else None,
        init=_init_model(run),
    )


def _starts_from(run: TrainingRun, other: TrainingRun) -> bool:
    """``run`` was initialised from ``other``'s final model (paths compared resolved, or by their tail
    when the config holds a path relative to wherever training ran)."""
    if run.init is None or run is other:
        return False
    final = other.path / "final"
    if run.init.is_absolute():
        return run.init.resolve() == final.resolve()
    parts = run.init.parts
    return (Path.cwd() / run.init).resolve() == final.resolve() or final.resolve().parts[
        -len(parts) :
    ] == parts


def chain(runs: Sequence[TrainingRun]) -> list[TrainingRun]:
    """``runs`` with each run's offset set to the steps of the runs it continues."""
    parent = {run.label: next((other for other in runs if _starts_from(run, other)), None) for run in runs}
    by_label = {run.label: run for run in runs}

    def offset(label: str, seen: frozenset[str] = frozenset()) -> int:
        before = parent[label]
        if before is None or before.label in seen:  # a cycle cannot happen on disk; never loop on one
            return 0
        return offset(before.label, seen | {label}) + by_label[before.label].last_step

    return [
        replace(run, offset=offset(run.label), after=parent[run.label].label if parent[run.label] else "")
        for run in runs
    ]
