"""Loading tasks from a suite name, a JSON / JSONL / parquet file, or a Hugging Face dataset.

``load_tasks("bundled")`` reads ``envs/bundled/tasks.jsonl``; a path reads that file (or a folder's
``tasks.jsonl``); a name such as ``owner/dataset`` that is neither goes to ``datasets.load_dataset``
(which needs the network, so tests never do this). Relative ``repo_dir`` values resolve against the
file's folder. A task built from a plain source tree with an empty ``base_commit`` gets the commit
that preparing it produces (``swe_srl.sandbox.workspace.base_commit_of``), so it can be graded and
exported like any SWE-bench instance.

This is the one task loader of every command. ``load_tasks`` refuses a file with any bad row;
``read_tasks`` (what ``eval`` uses, so a long run goes on past one bad task) loads every good row and
turns each bad one into a :class:`RowError` naming the file, the line or row, and the field.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError, SweSrlError, Task
from swe_srl.tasks.schema import RowRef, task_from_row
from swe_srl.tasks.suites import SUITE_FILE, envs_root, list_suites, suite_path

FILE_SUFFIXES = (".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class RowError:
    """A row that could not become a task: ``key`` names it in results (its instance id when it has
    one, else ``<file>:line<N>``), ``error`` says where and why (file, line, field)."""

    key: str
    error: RecordError


@dataclass(frozen=True)
class TaskLoad:
    """Every good row of a tasks file as a task, every bad row as a :class:`RowError`."""

    tasks: list[Task] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class TaskNotFound(SweSrlError, KeyError):
    """A suite has no task with the requested ``instance_id``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def resolve_spec(spec: str | Path) -> Path | None:
    """The tasks file ``spec`` names, or None when it names a Hugging Face dataset."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir():
        if (path / SUITE_FILE).is_file():
            return path / SUITE_FILE
        raise RecordError(f"folder has no {SUITE_FILE}", source=str(path))
    named = suite_path(str(spec))
    if named is not None:
        return named
    text = str(spec)
    if "/" in text and not text.endswith(FILE_SUFFIXES) and not path.is_absolute() and text.count("/") == 1:
        return None
    suites = ", ".join(list_suites()) or "none"
    raise RecordError(
        f"no such tasks file, suite or dataset (suites under {envs_root()}: {suites})", source=text
    )


def _jsonl_rows(path: Path) -> Iterator[tuple[Any, RowRef]]:
    # Bytes per line: a line that is not UTF-8 is reported with its number, like one that is not JSON.
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            ref = RowRef(str(path), f"line {number}")
            try:
                data = json.loads(line.decode("utf-8"))
            except ValueError as exc:  # one bad row, not a bad file: the rows after it still load
                data = ref.error(f"not valid JSON: {exc}")
            yield data, ref


def _json_rows(path: Path) -> Iterator[tuple[Any, RowRef]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}", source=str(path)) from None
    if isinstance(data, dict):
        data = data.get("tasks", [data])  # a {"tasks": [...]} wrapper, or one task object
    if not isinstance(data, list):
        raise RecordError("expected a list of task objects", source=str(path))
    for index, row in enumerate(data):
        yield row, RowRef(str(path), f"row {index}")


def _parquet_rows(path: Path) -> Iterator[tuple[Any, RowRef]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow comes with the train extra (datasets)
        raise RecordError("reading parquet needs pyarrow (pip install pyarrow)", source=str(path)) from exc
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own hierarchy for damaged files
        raise RecordError(f"not a readable parquet file: {exc}", source=str(path)) from None
    for index, row in enumerate(table.to_pylist()):
        yield row, RowRef(str(path), f"row {index}")


def _dataset_rows(name: str, split: str) -> Iterator[tuple[Any, RowRef]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets comes with the train extra
        raise RecordError("loading a Hugging Face dataset needs `datasets`", source=name) from exc
    try:
        dataset = datasets.load_dataset(name, split=split)
    except Exception as exc:  # offline, unknown name, no such split: all the caller can act on
        raise RecordError(f"cannot load dataset split {split!r}: {exc}", source=name) from None
    for index, row in enumerate(dataset):
        yield row, RowRef(f"dataset {name}[{split}]", f"row {index}")


def read_rows(path: Path) -> Iterator[tuple[Any, RowRef]]:
    """Raw rows of a tasks file, each with where it came from."""
    if path.suffix == ".parquet":
        return _parquet_rows(path)
    if path.suffix == ".json":
        return _json_rows(path)
    return _jsonl_rows(path)


def _with_base_commit(task: Task, ref: RowRef) -> Task:
    if task.base_commit or not task.repo_dir or not Path(task.repo_dir).is_dir():
        return task
    if (Path(task.repo_dir) / ".git").exists():
        return task  # a git checkout: the prepared repository uses its HEAD; nothing to promise
    from swe_srl.sandbox.workspace import WorkspaceError, base_commit_of

    try:
        return dataclasses.replace(task, base_commit=base_commit_of(task))
    except WorkspaceError as exc:
        raise ref.error(str(exc), {"instance_id": task.instance_id}, "setup_patch") from None


def _row_key(data: Any, ref: RowRef) -> str:
    ident = data.get("instance_id") if isinstance(data, dict) else None
    if isinstance(ident, str) and ident.strip():
        return ident
    return f"{Path(ref.source).name}:{ref.position.replace(' ', '')}"


def _rows(spec: str | Path, split: str) -> tuple[Iterator[tuple[Any, RowRef]], Path | None]:
    path = resolve_spec(spec)
    if path is None:
        return _dataset_rows(str(spec), split), None
    return read_rows(path), path.parent


def read_tasks(
    spec: str | Path,
    *,
    split: str = "test",
    fill_base_commit: bool = True,
    strict: bool = False,
    repos: str | None = None,
) -> TaskLoad:
    """Every task ``spec`` names, each bad row reported instead of stopping the load (``strict``:
    stop at the first). A file that cannot be read at all (missing, not JSON as a whole) raises
    ``RecordError``. Rows without a source tree get their repository from ``repos`` (default
    ``$SWE_SRL_REPOS``; see ``swe_srl.tasks.repos``)."""
    from swe_srl.tasks.repos import with_repositories

    rows, base_dir = _rows(spec, split)
    load = TaskLoad()
    first: dict[str, RowRef] = {}
    for data, ref in rows:
        key = _row_key(data, ref)
        try:
            if isinstance(data, RecordError):
                raise data
            task = task_from_row(data, ref, base_dir)
            if task.instance_id in first:
                key = f"{task.instance_id}:{ref.position.replace(' ', '')}"
                where = first[task.instance_id].position
                raise ref.error(f"duplicate instance_id (first at {where})", data, "instance_id")
            first[task.instance_id] = ref
            load.tasks.append(_with_base_commit(task, ref) if fill_base_commit else task)
        except RecordError as err:
            load.errors.append(RowError(key, err))
            if strict:
                break
    load.tasks[:] = with_repositories(load.tasks, repos)
    return load


def load_tasks(
    spec: str | Path, *, split: str = "test", fill_base_commit: bool = True, repos: str | None = None
) -> list[Task]:
    """All tasks ``spec`` names (suite name, tasks file, suite folder or dataset name), validated;
    the first bad row raises ``RecordError``."""
    load = read_tasks(spec, split=split, fill_base_commit=fill_base_commit, strict=True, repos=repos)
    if load.errors:
        raise load.errors[0].error
    return load.tasks


def load_task(spec: str | Path, instance_id: str, **options: Any) -> Task:
    """The one task of ``spec`` with ``instance_id``."""
    tasks = load_tasks(spec, **options)
    for task in tasks:
        if task.instance_id == instance_id:
            return task
    known = ", ".join(t.instance_id for t in tasks[:5]) + (", ..." if len(tasks) > 5 else "")
    raise TaskNotFound(f"{spec}: no task with instance_id {instance_id!r} (has {known})")
