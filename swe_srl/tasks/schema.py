"""Validating raw task rows (SWE-bench / swebench 5.x fields) into :class:`swe_srl.records.Task`.

Accepted on input, as real datasets store them:

- ``FAIL_TO_PASS`` / ``PASS_TO_PASS`` as a list of test ids or as a JSON string of such a list
  (SWE-bench's own datasets use the string form);
- ``version`` as a string or a number (``3.0`` becomes ``"3.0"``);
- ``None`` for any optional field (parquet and ``datasets`` fill missing columns with nulls);
- fields that :class:`Task` has no slot for (``created_at``, ``hints_text``...), kept in ``metadata``.

Every error is a :class:`RecordError` naming the file, the row (line number and instance id) and the
field at fault.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unidiff import PatchSet, UnidiffParseError

from swe_srl.records import RecordError, Task

TASK_FIELDS = {f.name for f in dataclasses.fields(Task)}
REQUIRED_FIELDS = ("instance_id", "repo", "problem_statement")
TEST_LIST_FIELDS = ("FAIL_TO_PASS", "PASS_TO_PASS")
PATCH_FIELDS = ("patch", "test_patch", "setup_patch")
_STRING_FIELDS = TASK_FIELDS - set(TEST_LIST_FIELDS) - {"metadata"}


@dataclass(frozen=True)
class RowRef:
    """Where a row came from, for error messages: ``file``, ``line 3 (instance_id X)``."""

    source: str
    position: str  # "line 3" for JSONL, "row 3" for JSON lists, parquet and datasets

    def error(self, message: str, data: Mapping[str, Any] | None = None, field_name: str = "") -> RecordError:
        instance = data.get("instance_id") if isinstance(data, Mapping) else None
        record = f"{self.position} (instance_id {instance})" if isinstance(instance, str) else self.position
        return RecordError(message, source=self.source, record=record, field_name=field_name)


def _test_list(value: Any, ref: RowRef, data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError as exc:
            raise ref.error(f"a string here must be a JSON list of test ids: {exc}", data, name) from None
    if hasattr(value, "tolist"):  # numpy / arrow arrays from parquet readers
        value = value.tolist()
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ref.error(f"must be a list of test ids (strings), got {type(value).__name__}", data, name)
    return tuple(value)


def _string(value: Any, ref: RowRef, data: Mapping[str, Any], name: str) -> str:
    if isinstance(value, str):
        return value
    if name == "version" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ref.error(f"must be a string, got {type(value).__name__}", data, name)


def check_patch(text: str, ref: RowRef, data: Mapping[str, Any], name: str) -> None:
    """Raise when ``text`` is not empty but is not a unified diff that ``unidiff`` can parse."""
    if not text.strip():
        return
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise ref.error(f"not a parseable unified diff: {exc}", data, name) from None
    if len(patch) == 0:
        raise ref.error("not a unified diff (no file headers found)", data, name)


def task_from_row(data: Any, ref: RowRef, base_dir: Path | None = None) -> Task:
    """Validate one raw row and build its Task; relative ``repo_dir`` resolves against ``base_dir``."""
    if not isinstance(data, Mapping):
        raise ref.error(f"a task must be a JSON object, got {type(data).__name__}")
    for name in REQUIRED_FIELDS:
        if name not in data or data[name] is None:
            raise ref.error("required field is missing", data, name)
        if not isinstance(data[name], str) or not data[name].strip():
            raise ref.error("must be a non-empty string", data, name)
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for name, value in data.items():
        if name not in TASK_FIELDS:
            extras[name] = value
        elif value is None:
            continue  # optional column left empty: keep the Task default
        elif name in TEST_LIST_FIELDS:
            values[name] = _test_list(value, ref, data, name)
        elif name == "metadata":
            if not isinstance(value, Mapping):
                raise ref.error(f"must be an object, got {type(value).__name__}", data, name)
            values[name] = dict(value)
        else:
            values[name] = _string(value, ref, data, name)
    values.setdefault("base_commit", "")
    for name in PATCH_FIELDS:
        check_patch(values.get(name, ""), ref, data, name)
    overlap = set(values.get("FAIL_TO_PASS", ())) & set(values.get("PASS_TO_PASS", ()))
    if overlap:
        raise ref.error(
            f"tests listed in both FAIL_TO_PASS and PASS_TO_PASS: {sorted(overlap)}", data, "PASS_TO_PASS"
        )
    if extras:
        values["metadata"] = {**extras, **values.get("metadata", {})}
    if values.get("environment"):
        values["environment"] = _environment(values["environment"], ref, data, base_dir)
        if not values.get("repo_dir"):  # a task over an environment starts from its source tree
            from swe_srl.environments.reference import spec_at

            values["repo_dir"] = spec_at(values["environment"]).repo_dir
    repo_dir = values.get("repo_dir", "")
    if repo_dir and base_dir is not None and not Path(repo_dir).is_absolute():
        values["repo_dir"] = str((base_dir / repo_dir).resolve())
    return Task(**values)


def _environment(value: str, ref: RowRef, data: Mapping[str, Any], base_dir: Path | None) -> str:
    from swe_srl.environments.reference import EnvironmentNotFound, resolve_reference

    try:
        return resolve_reference(value, base_dir)
    except (EnvironmentNotFound, RecordError) as exc:
        raise ref.error(str(exc), data, "environment") from None
