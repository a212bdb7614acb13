"""Reading run folders into typed records: eval runs, training runs, and folders holding several.

- An **eval run** (``swe-srl eval --out``) has ``report.json`` and/or ``results.jsonl``. The
  per-task rows come from ``report.json``; a run stopped before writing it is summarised from
  ``results.jsonl`` with the eval package's own ``build_report``. Each task's repository and
  ``metadata["difficulty"]`` come from the suite named in the run's meta, through the task loader.
- A **training run** (``swe-srl train ... --out``) has ``metrics.jsonl`` (one record per trainer
  log, ``kind`` "train" or "eval"), or only a transformers ``trainer_state.json`` (its
  ``log_history``); ``heldout_rewards.jsonl`` beside it adds per-instance held-out step rewards.
- Any other folder (a ``swe-srl demo`` output) is searched a few levels deep for runs.

Every malformed file is a :class:`~swe_srl.records.RecordError` naming the file, line and field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError
from swe_srl.report.step_rewards import FILE_NAME as STEP_REWARDS_FILE
from swe_srl.report.step_rewards import StepReward, read_step_rewards

EVAL_FILES = ("report.json", "results.jsonl")
TRAIN_FILES = ("metrics.jsonl", "trainer_state.json")
UNKNOWN = "unknown"
MAX_DEPTH = 3
_SKIP_DIRS = ("trajectories", "final", "report", "steps", "models", "stages", "logs")


@dataclass(frozen=True)
class EvalTaskRow:
    """One graded task of an eval run, with the suite's facts about it."""

    instance_id: str
    status: str
    resolved: bool
    steps: int
    duration: float
    reason: str
    repo: str = UNKNOWN
    difficulty: str = UNKNOWN


@dataclass(frozen=True)
class EvalRun:
    """An evaluation run: headline numbers as ``report.json`` states them, and every task."""

    path: Path
    label: str
    policy: str
    suite: str
    total: int
    resolved: int
    resolve_rate: float
    ci95: tuple[float, float]
    mean_steps: float
    statuses: dict[str, int]
    tasks: tuple[EvalTaskRow, ...]
    complete: bool  # report.json was written (the run finished)
    notes: tuple[str, ...] = ()
    judged: int = 0  # the resolve rate's denominator: total minus infrastructure errors
    infrastructure_errors: dict[str, int] = field(default_factory=dict)  # cause -> count
    telemetry: dict[str, Any] | None = None  # telemetry.json (swe_srl.engine.telemetry)


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
    method: str  # "grpo" when rewards were logged (SRL, RLVR), else "sft"
    train: tuple[MetricPoint, ...]
    held_out: tuple[MetricPoint, ...]
    step_rewards: tuple[StepReward, ...]
    source: str  # the file the curves came from
    final_model: Path | None

    def series(self, key: str, *, held_out: bool = False) -> list[tuple[int, float]]:
        """(step, value) of one metric, oldest first."""
        points = self.held_out if held_out else self.train
        return [(p.step, p.values[key]) for p in points if key in p.values]


@dataclass(frozen=True)
class Collection:
    """Every run found under one folder."""

    root: Path
    eval_runs: tuple[EvalRun, ...] = ()
    training_runs: tuple[TrainingRun, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------------------------
# Eval runs


def _need(data: dict, name: str, kinds: type | tuple[type, ...], source: str, record: str = "") -> Any:
    value = data.get(name)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        expected = "/".join(k.__name__ for k in _as_tuple(kinds))
        raise RecordError(f"missing or not {expected}", source=source, record=record, field_name=name)
    return value


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise RecordError(f"not valid JSON: {err}", source=str(path)) from None
    except OSError as err:
        raise RecordError(f"cannot read: {err}", source=str(path)) from None


def _report_dict(run: Path) -> tuple[dict, str, bool]:
    """The run's report as ``RunReport.to_dict()`` data, the file it came from, and completeness."""
    path = run / "report.json"
    if path.is_file():
        data = _read_json(path)
        if not isinstance(data, dict):
            raise RecordError("expected a JSON object (swe-srl eval's report.json)", source=str(path))
        return data, str(path), True
    from swe_srl.eval.report import build_report
    from swe_srl.eval.results import ResultsLog

    results = list(ResultsLog(run / "results.jsonl").load().values())
    return build_report(results).to_dict(), str(run / "results.jsonl"), False


def _task_rows(data: dict, source: str) -> list[EvalTaskRow]:
    rows = _need(data, "tasks", list, source)
    parsed = []
    for index, row in enumerate(rows):
        record = f"tasks[{index}]"
        if not isinstance(row, dict):
            raise RecordError("expected an object", source=source, record=record)
        parsed.append(
            EvalTaskRow(
                instance_id=_need(row, "instance_id", str, source, record),
                status=_need(row, "status", str, source, record),
                resolved=_need(row, "resolved", bool, source, record),
                steps=_need(row, "steps", int, source, record),
                duration=float(_need(row, "duration", (int, float), source, record)),
                reason=str(row.get("reason") or ""),
            )
        )
    return parsed


def _suite_facts(suite: str) -> tuple[dict[str, tuple[str, str]], str]:
    """instance_id -> (repo, difficulty) from the suite, and a note when it cannot be read."""
    if not suite:
        return {}, "the run does not name its task suite: repository and difficulty unknown"
    from swe_srl.tasks import load_tasks

    try:
        tasks = load_tasks(suite, fill_base_commit=False)
    except (RecordError, OSError, ValueError) as err:
        return {}, f"task suite {suite!r} not readable ({err}): repository and difficulty unknown"
    facts = {t.instance_id: (t.repo, str(t.metadata.get("difficulty") or UNKNOWN)) for t in tasks}
    return facts, ""


def read_eval_run(run: Path, label: str = "") -> EvalRun:
    """One eval run folder (``report.json`` and/or ``results.jsonl``)."""
    data, source, complete = _report_dict(run)
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise RecordError("expected an object", source=source, field_name="meta")
    ci = _need(data, "ci95", list, source)
    if len(ci) != 2 or not all(isinstance(x, int | float) for x in ci):
        raise RecordError("expected [low, high]", source=source, field_name="ci95")
    facts, note = _suite_facts(str(meta.get("tasks") or ""))
    tasks = []
    for row in _task_rows(data, source):
        repo, difficulty = facts.get(row.instance_id, (UNKNOWN, UNKNOWN))
        tasks.append(dataclasses.replace(row, repo=repo, difficulty=difficulty))
    notes = [note] if note else []
    if not complete:
        notes.append(f"{run}: no report.json (run unfinished?): summarised from results.jsonl")
    from swe_srl.engine.telemetry import read_telemetry

    total = _need(data, "total", int, source)
    infrastructure = data.get("infrastructure_errors") or {}
    return EvalRun(
        path=run,
        label=label or run.name,
        policy=str(meta.get("policy") or UNKNOWN),
        suite=str(meta.get("tasks") or UNKNOWN),
        total=total,
        resolved=_need(data, "resolved", int, source),
        resolve_rate=float(_need(data, "resolve_rate", (int, float), source)),
        ci95=(float(ci[0]), float(ci[1])),
        mean_steps=float(_need(data, "mean_steps", (int, float), source)),
        statuses={str(k): int(v) for k, v in (data.get("statuses") or {}).items()},
        tasks=tuple(tasks),
        complete=complete,
        notes=tuple(notes),
        judged=int(data.get("judged", total)),
        infrastructure_errors={str(k): int(v) for k, v in infrastructure.items()},
        telemetry=read_telemetry(run),
    )


# --------------------------------------------------------------------------------------------
# Training runs


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
    lines = path.read_text(encoding="utf-8").split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as err:
            if number == len(lines):  # no newline after it: the writer was killed mid-line
                continue
            raise RecordError(f"not valid JSON: {err}", source=str(path), record=f"line {number}") from None
        if not isinstance(data, dict):
            raise RecordError("expected a JSON object", source=str(path), record=f"line {number}")
        _need(data, "step", int, str(path), f"line {number}")
        records.append(data)
    return records


def _trainer_state_records(path: Path) -> list[dict]:
    """transformers' ``log_history`` in the ``metrics.jsonl`` shape (eval_* keys -> kind eval)."""
    data = _read_json(path)
    history = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(history, list):
        raise RecordError("missing or not a list", source=str(path), field_name="log_history")
    records = []
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise RecordError("expected an object", source=str(path), record=f"log_history[{index}]")
        step = _need(entry, "step", int, str(path), f"log_history[{index}]")
        records.append({**entry, "kind": "train", "step": step})  # eval_* keys: see _split_points
    return records


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
    return tuple(train), tuple(held_out)


def _trainer_state(run: Path) -> Path | None:
    if (run / "trainer_state.json").is_file():
        return run / "trainer_state.json"
    checkpoints = sorted(
        run.glob("checkpoint-*/trainer_state.json"), key=lambda p: _checkpoint_number(p.parent)
    )
    return checkpoints[-1] if checkpoints else None


def _checkpoint_number(folder: Path) -> int:
    tail = folder.name.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def read_training_run(run: Path, label: str = "") -> TrainingRun:
    """One training run folder (``metrics.jsonl``, else the newest ``trainer_state.json``)."""
    metrics = run / "metrics.jsonl"
    state = _trainer_state(run)
    if metrics.is_file():
        records, source = _metrics_records(metrics), metrics
    elif state is not None:
        records, source = _trainer_state_records(state), state
    else:
        raise RecordError("no metrics.jsonl or trainer_state.json: not a training run", source=str(run))
    train, held_out = _split_points(records)
    rewards_file = run / STEP_REWARDS_FILE
    step_rewards = tuple(read_step_rewards(rewards_file)) if rewards_file.is_file() else ()
    grpo = any("reward" in p.values or "rewards/srl_reward/mean" in p.values for p in train)
    final = run / "final"
    return TrainingRun(
        path=run,
        label=label or run.name,
        method="grpo" if grpo else "sft",
        train=train,
        held_out=held_out,
        step_rewards=step_rewards,
        source=str(source),
        final_model=final if final.is_dir() else None,
    )


# --------------------------------------------------------------------------------------------
# Finding runs


def is_eval_run(folder: Path) -> bool:
    return any((folder / name).is_file() for name in EVAL_FILES)


def is_training_run(folder: Path) -> bool:
    return (folder / "metrics.jsonl").is_file() or _trainer_state(folder) is not None


def _run_folders(root: Path, depth: int = 0) -> Iterable[Path]:
    """Folders under ``root`` that are runs, shallowest first, not looking inside a run."""
    if is_eval_run(root) or is_training_run(root):
        yield root
        return
    if depth >= MAX_DEPTH:
        return
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if child.name.startswith((".", "checkpoint-")) or child.name in _SKIP_DIRS:
            continue
        yield from _run_folders(child, depth + 1)


def collect(root: str | Path) -> Collection:
    """Every eval and training run in ``root`` (itself a run, or a folder holding runs)."""
    root = Path(root)
    if not root.is_dir():
        raise RecordError("no such run directory", source=str(root))
    eval_runs: list[EvalRun] = []
    training_runs: list[TrainingRun] = []
    for folder in _run_folders(root):
        label = folder.name if folder == root else folder.relative_to(root).as_posix()
        if is_eval_run(folder):
            eval_runs.append(read_eval_run(folder, label))
        if is_training_run(folder):
            training_runs.append(read_training_run(folder, label))
    if not eval_runs and not training_runs:
        raise RecordError(
            "not a run directory: no report.json or results.jsonl (eval run), no metrics.jsonl or "
            f"trainer_state.json (training run), here or in subfolders up to {MAX_DEPTH} levels down",
            source=str(root),
        )
    notes = tuple(dict.fromkeys(n for run in eval_runs for n in run.notes))
    return Collection(root, tuple(eval_runs), tuple(training_runs), notes)
