"""Task suites: schema validation, loaders (suite name, JSON/JSONL/parquet, datasets) and validation.

``load_tasks("bundled")`` returns the bundled suite's :class:`swe_srl.records.Task` list;
``validate_task`` proves in a sandbox that a task's tests behave as its FAIL_TO_PASS / PASS_TO_PASS
lists claim (``swe_srl.engine.validate`` runs it over a suite).
"""

from __future__ import annotations

from typing import Any

from swe_srl.tasks.loader import (
    RowError,
    TaskLoad,
    TaskNotFound,
    load_task,
    load_tasks,
    read_tasks,
    resolve_spec,
)
from swe_srl.tasks.schema import task_from_row
from swe_srl.tasks.suites import envs_root, list_suites, suite_path

__all__ = [
    "RowError",
    "TaskLoad",
    "TaskNotFound",
    "TaskValidation",
    "envs_root",
    "list_suites",
    "load_task",
    "load_tasks",
    "read_tasks",
    "resolve_spec",
    "suite_path",
    "task_from_row",
    "validate_task",
]

_VALIDATION = ("TaskValidation", "validate_task")


def __getattr__(name: str) -> Any:
    # Validation pulls in the sandbox and swebench's log parsers: load it only when asked for.
    if name in _VALIDATION:
        from swe_srl.tasks import validate

        return getattr(validate, name)
    raise AttributeError(f"module 'swe_srl.tasks' has no attribute {name!r}")
