"""Reading run folders into typed records: eval runs, training runs, and folders holding several.

- An **eval run** (``swe-srl eval --out``) has ``report.json`` and/or ``results.jsonl``. The
  per-task rows come from ``report.json``; a run stopped before writing it is summarised from
  ``results.jsonl`` with the eval package's own ``build_report``. Each task's repository and
  ``metadata["difficulty"]`` come from the suite named in the run's meta, through the task loader.
  A run is finished when ``report.json`` is at least as new as ``results.jsonl``; otherwise it is
  in progress (or was stopped) and its numbers so far come from ``results.jsonl``. Statuses are
  kept as the results give them; status ``error`` (an infrastructure error, with its ``cause``)
  is reported apart from the verdicts on the model.
- A **training run**: see ``training_runs.py``.
- Any other folder (a ``swe-srl demo`` output) is searched a few levels deep for runs;
  :func:`collect_many` reads several folders into one collection (``swe-srl report A B ...``).

Every malformed file is a :class:`~swe_srl.records.RecordError` naming the file, line and field.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.engine.telemetry import read_telemetry
from swe_srl.records import RecordError
from swe_srl.report.training_runs import MetricPoint, TrainingRun, chain, read_training_run, trainer_state

__all__ = ["Collection", "EvalRun", "EvalTaskRow", "MetricPoint", "TrainingRun", "collect", "collect_many"]

EVAL_FILES = ("report.json", "results.jsonl")
ERROR_STATUS = "error"  # an infrastructure error: the machinery failed, not the model
RUN_RECORD = "run.json"  # a run's identity and settings, written when it starts
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
    cause: str = ""  # what failed, for an infrastructure error
    audit: tuple[str, ...] = ()  # the grader's static findings on the patch


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
    complete: bool  # report.json was written after the last result (the run finished)
    notes: tuple[str, ...] = ()
    expected: int | None = None  # tasks the run was asked for, when known
    judged: int = 0  # the resolve rate's denominator: tasks minus infrastructure errors
    infrastructure_errors: dict[str, int] = field(default_factory=dict)  # cause -> count
    telemetry: dict[str, Any] | None = None  # telemetry.json (swe_srl.engine.telemetry)

    @property
    def verdicts(self) -> dict[str, int]:
        """Statuses that judge the model (everything but infrastructure errors)."""
        return {k: v for k, v in self.statuses.items() if k != ERROR_STATUS}

    @property
    def state(self) -> str:
        """ "finished", or how far an unfinished run got."""
        if self.complete:
            return "finished"
        done = len(self.tasks)
        return (
            f"in progress: {done} of {self.expected} done" if self.expected else f"in progress: {done} done"
        )


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
    """The run's report as ``RunReport.to_dict()`` data, the file it came from, and completeness.

    A ``report.json`` older than ``results.jsonl`` belongs to an earlier session of a run that is
    going on again (or was stopped): the numbers then come from the results, the meta from it.
    """
    report, results = run / "report.json", run / "results.jsonl"
    data: dict = {}
    if report.is_file():
        data = _read_json(report)
        if not isinstance(data, dict):
            raise RecordError("expected a JSON object (swe-srl eval's report.json)", source=str(report))
        if not results.is_file() or results.stat().st_mtime_ns <= report.stat().st_mtime_ns:
            return data, str(report), True
    from swe_srl.eval.report import build_report
    from swe_srl.eval.results import ResultsLog

    so_far = build_report(list(ResultsLog(results).load().values())).to_dict()
    return {**so_far, "meta": data.get("meta") or _run_record_meta(run)}, str(results), False


def _run_record_meta(run: Path) -> dict:
    """What ``run.json`` (written when a run starts) says about it: its identity (suite, policy)
    and the settings of its latest invocation (instances); empty when there is none."""
    path = run / RUN_RECORD
    if not path.is_file():
        return {}
    record = _read_json(path)
    identity = record.get("identity") if isinstance(record, dict) else None
    invocations = record.get("invocations") if isinstance(record, dict) else None
    latest = invocations[-1] if isinstance(invocations, list) and invocations else {}
    return {
        **(latest if isinstance(latest, dict) else {}),
        **(identity if isinstance(identity, dict) else {}),
    }


def _expected(meta: dict, facts: dict) -> int | None:
    """How many tasks the run was asked for: its ``instances``, else its whole suite (when known)."""
    raw = meta.get("instances")
    try:
        chosen = ast.literal_eval(raw) if isinstance(raw, str) and raw else raw
    except (ValueError, SyntaxError):
        chosen = None
    if isinstance(chosen, list | tuple) and chosen:
        return len(chosen)
    return len(facts) or None


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
                cause=str(row.get("cause") or ""),
                audit=tuple(str(x) for x in row.get("audit") or ()),
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


def _infrastructure_errors(data: dict, tasks: list[EvalTaskRow]) -> dict[str, int]:
    """Infrastructure errors by cause, as the report counts them (reports from before causes were
    recorded: every ``error`` row, by the cause its row names, else "unknown")."""
    counted = data.get("infrastructure_errors")
    if isinstance(counted, dict):
        return {str(k): int(v) for k, v in counted.items()}
    causes: dict[str, int] = {}
    for task in tasks:
        if task.status == ERROR_STATUS:
            causes[task.cause or UNKNOWN] = causes.get(task.cause or UNKNOWN, 0) + 1
    return causes


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
    total = _need(data, "total", int, source)
    notes = [note] if note else []
    if not complete:
        notes.append(f"{label or run.name}: in progress or stopped (no report.json after its last result)")
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
        expected=None if complete else _expected(meta, facts),
        judged=int(data.get("judged", total)),
        infrastructure_errors=_infrastructure_errors(data, tasks),
        telemetry=read_telemetry(run),
    )


# --------------------------------------------------------------------------------------------
# Finding runs


def is_eval_run(folder: Path) -> bool:
    return any((folder / name).is_file() for name in EVAL_FILES)


def is_training_run(folder: Path) -> bool:
    return (folder / "metrics.jsonl").is_file() or trainer_state(folder) is not None


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


def _read_root(root: Path, prefix: str) -> tuple[list[EvalRun], list[TrainingRun]]:
    if not root.is_dir():
        raise RecordError("no such run directory", source=str(root))
    eval_runs: list[EvalRun] = []
    training_runs: list[TrainingRun] = []
    for folder in _run_folders(root):
        label = folder.name if folder == root else folder.relative_to(root).as_posix()
        label = f"{prefix}{label}" if folder != root or not prefix else prefix.rstrip("/")
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
    return eval_runs, training_runs


def _prefixes(roots: Sequence[Path]) -> list[str]:
    """Label prefixes that tell several roots apart: their names, with parents where names repeat."""
    if len(roots) == 1:
        return [""]
    for depth in range(1, 6):
        names = ["/".join(root.resolve().parts[-depth:]) for root in roots]
        if len(set(names)) == len(names):
            return [f"{name}/" for name in names]
    return [f"{root.resolve()}/" for root in roots]


def collect_many(roots: Sequence[str | Path]) -> Collection:
    """Every eval and training run under each of ``roots``, labelled apart, chains lined up."""
    paths = [Path(root) for root in roots]
    if not paths:
        raise RecordError("no run directory given")
    eval_runs: list[EvalRun] = []
    training_runs: list[TrainingRun] = []
    for root, prefix in zip(paths, _prefixes(paths), strict=True):
        evals, trainings = _read_root(root, prefix)
        eval_runs += evals
        training_runs += trainings
    notes = tuple(dict.fromkeys(n for run in eval_runs for n in run.notes))
    notes += tuple(
        f"{run.label}: unfinished (no final model saved)" for run in training_runs if not run.finished
    )
    return Collection(paths[0], tuple(eval_runs), tuple(chain(training_runs)), notes)


def collect(root: str | Path) -> Collection:
    """Every eval and training run in ``root`` (itself a run, or a folder holding runs)."""
    return collect_many([root])
