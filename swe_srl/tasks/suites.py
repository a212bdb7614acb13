"""Named task suites: ``envs/<name>/tasks.jsonl`` under the envs root."""

from __future__ import annotations

import os
from pathlib import Path

SUITE_FILE = "tasks.jsonl"


def envs_root() -> Path:
    """``$SWE_SRL_ENVS`` when set, else the repository's ``envs/`` folder next to the package."""
    env = os.environ.get("SWE_SRL_ENVS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "envs"


def list_suites() -> list[str]:
    """Names of the suites under the envs root (folders holding a ``tasks.jsonl``)."""
    root = envs_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SUITE_FILE).is_file())


def suite_path(name: str) -> Path | None:
    """The tasks file of suite ``name``, or None when there is no such suite."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = envs_root() / name / SUITE_FILE
    return path if path.is_file() else None
