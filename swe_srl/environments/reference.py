"""How a task names its environment, and finding that environment's spec.

A task row writes the spec's name (``"environment": "attrs-23.1.0"``); loading resolves it against
the ``environments.jsonl`` beside the tasks file, into ``"/abs/path/environments.jsonl#attrs-23.1.0"``
(as ``repo_dir`` resolves into an absolute path), so a loaded task finds its spec from anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from swe_srl.environments.spec import ENVIRONMENTS_FILE, EnvSpec, read_environments
from swe_srl.records import SweSrlError, Task

_memo: dict[tuple[str, int], dict[str, EnvSpec]] = {}


class EnvironmentNotFound(SweSrlError):
    """A task names an environment that no environments file defines."""


def _specs(path: Path) -> dict[str, EnvSpec]:
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _memo:
        _memo[key] = read_environments(path)
    return _memo[key]


def resolve_reference(value: str, base_dir: Path | None) -> str:
    """``value`` ("NAME" or "FILE#NAME") as an absolute ``FILE#NAME``; raise when there is no such spec."""
    file_part, hashmark, name = value.rpartition("#")
    if not hashmark:
        file_part, name = ENVIRONMENTS_FILE, value
    path = Path(file_part)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise EnvironmentNotFound(f"environment {name!r}: no environments file at {path}")
    if name not in _specs(path):
        known = ", ".join(sorted(_specs(path))[:8])
        raise EnvironmentNotFound(f"environment {name!r} is not defined in {path} (it defines {known})")
    return f"{path}#{name}"


def spec_at(reference: str) -> EnvSpec:
    """The spec a resolved reference (``/abs/environments.jsonl#name``) names."""
    file_part, _, name = reference.rpartition("#")
    specs = _specs(Path(file_part))
    if name not in specs:
        raise EnvironmentNotFound(f"environment {name!r} is not in {file_part}")
    return specs[name]


def spec_for(task: Task) -> EnvSpec | None:
    """The environment spec ``task`` names, or None when it names none."""
    value = getattr(task, "environment", "")
    if not value:
        return None
    file_part, hashmark, name = value.rpartition("#")
    if not hashmark or not os.path.isabs(file_part):
        value = resolve_reference(value, None)
        file_part, _, name = value.rpartition("#")
    specs = _specs(Path(file_part))
    if name not in specs:
        raise EnvironmentNotFound(f"task {task.instance_id}: environment {name!r} is not in {file_part}")
    return specs[name]
