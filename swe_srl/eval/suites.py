"""Load a suite for evaluation without letting one malformed row stop the run.

``swe_srl.tasks.load_tasks`` is tried first. When it rejects the file (a malformed row), the file is
read again row by row: good rows become tasks, each bad row becomes an ``error`` result naming the
file, the line and the field, so the run evaluates everything else and reports the rest.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.records import EvalResult, RecordError, Task

_TASK_FIELDS = {f.name: f for f in dataclasses.fields(Task)}
_REQUIRED = ("instance_id", "repo", "problem_statement")
_LISTS = ("FAIL_TO_PASS", "PASS_TO_PASS")
ENVS_DIR = Path(__file__).resolve().parents[2] / "envs"


@dataclass(frozen=True)
class SuiteLoad:
    tasks: list[Task]
    errors: list[EvalResult] = field(default_factory=list)


def suite_file(spec: str) -> Path:
    """``spec`` as a tasks file: a path to a JSONL file or suite directory, or a suite name under envs/."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir() and (path / "tasks.jsonl").is_file():
        return path / "tasks.jsonl"
    named = ENVS_DIR / spec / "tasks.jsonl"
    if named.is_file():
        return named
    raise RecordError(f"no such suite or tasks file (looked for {spec} and {named})", source=spec)


def task_from_row(data: object, source: Path, line: int) -> Task:
    """A Task from one JSONL row; ``repo_dir`` is resolved against the file's directory."""
    record = f"line {line}"
    if not isinstance(data, dict):
        raise RecordError("a task row must be a JSON object", source=str(source), record=record)
    record = str(data.get("instance_id") or record)
    for name in _REQUIRED:
        if not isinstance(data.get(name), str) or not data[name]:
            raise RecordError(
                "missing or not a non-empty string", source=str(source), record=record, field_name=name
            )
    values = {k: v for k, v in data.items() if k in _TASK_FIELDS}
    for name in _LISTS:
        raw = values.get(name, [])
        raw = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise RecordError(
                "must be a list of test ids", source=str(source), record=record, field_name=name
            )
        values[name] = tuple(raw)
    for name, value in values.items():
        if name not in _LISTS and name != "metadata" and not isinstance(value, str):
            raise RecordError("must be a string", source=str(source), record=record, field_name=name)
    if values.get("repo_dir") and not Path(values["repo_dir"]).is_absolute():
        values["repo_dir"] = str((source.parent / values["repo_dir"]).resolve())
    return Task(**values)


def read_rows(path: Path) -> SuiteLoad:
    """Every row of ``path``: tasks for the good ones, ``error`` results for the bad ones."""
    tasks: list[Task] = []
    errors: list[EvalResult] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as err:
            errors.append(
                EvalResult(
                    f"{path.name}:line{number}",
                    "error",
                    False,
                    f"file {path}, line {number}: not JSON: {err}",
                )
            )
            continue
        try:
            task = task_from_row(data, path, number)
        except RecordError as err:
            ident = data.get("instance_id") if isinstance(data, dict) else None
            errors.append(EvalResult(str(ident or f"{path.name}:line{number}"), "error", False, str(err)))
            continue
        if task.instance_id in seen:
            errors.append(
                EvalResult(
                    f"{task.instance_id}:line{number}",
                    "error",
                    False,
                    f"file {path}, line {number}: duplicate instance_id",
                )
            )
            continue
        seen.add(task.instance_id)
        tasks.append(task)
    return SuiteLoad(tasks, errors)


def load_suite(spec: str) -> SuiteLoad:
    """The suite's tasks (through ``swe_srl.tasks.load_tasks`` when it accepts the file)."""
    try:
        from swe_srl.tasks import load_tasks
    except ImportError:
        load_tasks = None
    if load_tasks is not None:
        try:
            return SuiteLoad(list(load_tasks(spec)))
        except (RecordError, ValueError, OSError):
            pass  # a malformed row: fall back to row-by-row reading, which reports it per row
    return read_rows(suite_file(spec))
