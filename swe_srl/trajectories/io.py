"""Reading and writing trajectories in swe-srl's normalized format.

One trajectory is one JSON file (``*.traj.json`` or ``*.json``) holding ``Trajectory.to_dict()``;
a collection is JSONL, one trajectory per line. Readers stream: ``iter_trajectories`` holds one
trajectory in memory at a time, whatever the number of files or lines.

``iter_raw_records`` is the lower layer shared with the importers: it yields every raw JSON record
of a file (the whole document of a JSON file, each line of a JSONL file, each row of a parquet
file) labelled with where it came from, so errors can name file and record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.records import TRAJECTORY_SCHEMA_VERSION, RecordError, Trajectory

JSON_SUFFIXES = (".json", ".traj")
JSONL_SUFFIXES = (".jsonl",)
PARQUET_SUFFIXES = (".parquet",)
INPUT_SUFFIXES = JSON_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES


@dataclass(frozen=True)
class RawRecord:
    """One raw JSON record and where it came from."""

    source: str  # file path
    record: str  # "" for a whole-file document, "line 3" / "row 7" inside collections
    data: Any


def trajectory_id(traj: Trajectory) -> str:
    """The identity of one trajectory (several trajectories may share an instance id)."""
    return str(traj.metadata.get("trajectory_id") or traj.instance_id)


def safe_file_name(name: str) -> str:
    """``name`` with every character a file name should not hold replaced by ``_``."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "trajectory"


def write_trajectory(traj: Trajectory, path: str | Path) -> Path:
    """Write one trajectory as a JSON file; a directory ``path`` gets ``<trajectory id>.traj.json``."""
    path = Path(path)
    if path.is_dir():
        path = path / f"{safe_file_name(trajectory_id(traj))}.traj.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(traj.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def trajectory_from_dict(data: Any, *, source: str = "", record: str = "") -> Trajectory:
    """Validate a normalized-format dict and build the record; errors name file, record and field."""
    if not isinstance(data, dict):
        raise RecordError("expected a JSON object", source=source, record=record)
    version = data.get("schema_version", TRAJECTORY_SCHEMA_VERSION)
    if not isinstance(version, int) or version > TRAJECTORY_SCHEMA_VERSION:
        raise RecordError(
            f"unsupported schema version {version!r} (this swe-srl reads <= {TRAJECTORY_SCHEMA_VERSION})",
            source=source,
            record=record,
            field_name="schema_version",
        )
    if not isinstance(data.get("instance_id"), str):
        raise RecordError("missing or not a string", source=source, record=record, field_name="instance_id")
    record = record or data["instance_id"]
    _check_types(data, _TRAJECTORY_FIELDS, source, record, "")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise RecordError("missing or not a list", source=source, record=record, field_name="steps")
    for index, step in enumerate(steps):
        action = step.get("action") if isinstance(step, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("tool"), str):
            raise RecordError(
                "step has no action with a tool name",
                source=source,
                record=record,
                field_name=f"steps[{index}].action",
            )
        if not isinstance(action.get("args", {}), dict):
            raise RecordError(
                "action args must be an object",
                source=source,
                record=record,
                field_name=f"steps[{index}].action.args",
            )
        _check_types(step, _STEP_FIELDS, source, record, f"steps[{index}].")
    return Trajectory.from_dict(data)


# Optional fields: name -> (the JSON types accepted, whether null is accepted too).
_TEXT, _NUMBER = (str,), (int, float)
_TRAJECTORY_FIELDS = {
    "source_format": (_TEXT, False),
    "model": (_TEXT, False),
    "problem_statement": (_TEXT, False),
    "final_patch": (_TEXT, False),
    "resolved": ((bool,), True),
    "metadata": ((dict,), True),
}
_STEP_FIELDS = {
    "thought": (_TEXT, False),
    "observation": (_TEXT, False),
    "raw_action": (_TEXT, False),
    "duration": (_NUMBER, True),
    "reward": (_NUMBER, True),
    "exit_code": ((int,), True),
    "metadata": ((dict,), True),
}


def _check_types(data: dict, fields: dict, source: str, record: str, prefix: str) -> None:
    for name, (types, nullable) in fields.items():
        if name not in data or (nullable and data[name] is None):
            continue
        value = data[name]
        # bool is an int in Python, never a number in a trajectory.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join(t.__name__ for t in types) + (" or null" if nullable else "")
            raise RecordError(
                f"expected {expected}, got {type(value).__name__}",
                source=source,
                record=record,
                field_name=prefix + name,
            )


def read_trajectory(path: str | Path) -> Trajectory:
    """Read one trajectory written by ``write_trajectory``."""
    path = Path(path)
    return trajectory_from_dict(_load_json(path), source=str(path))


def write_jsonl(trajectories: Iterable[Trajectory], path: str | Path) -> int:
    """Write trajectories one per line (streaming); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for traj in trajectories:
            handle.write(json.dumps(traj.to_dict(), ensure_ascii=False))
            handle.write("\n")
            count += 1
    return count


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, plus every input file under named directories (sorted, recursive)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [c for c in sorted(path.rglob("*")) if c.is_file() and c.name.endswith(INPUT_SUFFIXES)]
            if not found:  # a mistyped folder must not become an empty dataset and a success
                raise RecordError(
                    f"holds no trajectory files ({', '.join(INPUT_SUFFIXES)})", source=str(path)
                )
            yield from found
        elif path.is_file():
            yield path
        else:
            raise RecordError("no such file or directory", source=str(path))


def _load_json(path: Path) -> Any:
    try:
        with path.open("r", encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RecordError(f"not valid JSON: {err}", source=str(path)) from None


def _iter_jsonl(path: Path, errors: list[RecordError] | None) -> Iterator[RawRecord]:
    # Bytes per line, so one line that is not UTF-8 costs only itself, like one that is not JSON.
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                error = RecordError(f"not valid JSON: {err}", source=str(path), record=f"line {number}")
                if errors is None:
                    raise error from None
                errors.append(error)  # a bad line costs only itself
                continue
            yield RawRecord(str(path), f"line {number}", data)


def _iter_parquet(
    path: Path, errors: list[RecordError] | None = None, batch_size: int = 64
) -> Iterator[RawRecord]:
    """The rows of a parquet file, one row group at a time; an unreadable file (or the rest of it,
    from the row that fails) is one error, appended to ``errors`` when given, else raised."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # heavy; only parquet inputs need it

    row = 0
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=batch_size)  # one row group at a time
        for batch in batches:
            for data in batch.to_pylist():
                yield RawRecord(str(path), f"row {row}", data)
                row += 1
    except (pa.ArrowException, OSError) as err:
        error = RecordError(f"unreadable parquet: {err}", source=str(path), record=f"row {row}")
        if errors is None:
            raise error from None
        errors.append(error)


# Keys that make a JSON object a row of a collection (a whole trajectory), not a message or an event.
ROW_KEYS = frozenset({"messages", "trajectory", "history", "steps", "nodes", "instance_id", "details"})


def is_row_array(data: Any) -> bool:
    """A JSON array of rows (each one trajectory), rather than one trajectory written as a list."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(item, dict) and not item.keys().isdisjoint(ROW_KEYS) for item in data)
        and not any("role" in item or "action" in item or "observation" in item for item in data)
    )


def iter_raw_records(path: str | Path, errors: list[RecordError] | None = None) -> Iterator[RawRecord]:
    """Every raw record of one file: JSON document, JSONL lines, a JSON array of rows, or parquet rows.

    With an ``errors`` list, unreadable records are appended to it and skipped; without, they raise.
    """
    path = Path(path)
    name = path.name
    if name.endswith(JSONL_SUFFIXES):
        yield from _iter_jsonl(path, errors)
    elif name.endswith(PARQUET_SUFFIXES):
        yield from _iter_parquet(path, errors)
    else:
        try:
            data = _load_json(path)
        except RecordError as err:
            if errors is None:
                raise
            errors.append(err)
            return
        if is_row_array(data):
            for index, item in enumerate(data):
                yield RawRecord(str(path), f"item {index}", item)
        else:
            yield RawRecord(str(path), "", data)


def iter_trajectories(paths: Iterable[str | Path] | str | Path) -> Iterator[Trajectory]:
    """Stream normalized trajectories from files, directories and JSONL collections."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for path in expand_paths(paths):
        for raw in iter_raw_records(path):
            yield trajectory_from_dict(raw.data, source=raw.source, record=raw.record)
