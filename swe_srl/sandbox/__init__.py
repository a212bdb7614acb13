"""Sandboxes: where an agent's commands run, with the task repository at ``/testbed``.

``make_sandbox("local", task)`` (bubblewrap, the default) or ``make_sandbox("docker", task)``.
Both satisfy :class:`Sandbox` and give byte-identical observations for the same commands.
"""

from __future__ import annotations

from typing import Any

from swe_srl.records import ExecResult, Task
from swe_srl.sandbox.base import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_READ_LIMIT,
    PATCH_LIMIT_BYTES,
    TESTBED,
    TRUNCATION_MARKER,
    BrokenRepository,
    FileTooLarge,
    IsolationUnavailable,
    Sandbox,
    SandboxError,
    is_truncated_patch,
)
from swe_srl.sandbox.workspace import WorkspaceError, base_commit_of, prepare_base_repo

SANDBOX_KINDS = ("local", "docker")

__all__ = [
    "DEFAULT_OUTPUT_LIMIT",
    "DEFAULT_READ_LIMIT",
    "PATCH_LIMIT_BYTES",
    "SANDBOX_KINDS",
    "TESTBED",
    "TRUNCATION_MARKER",
    "BrokenRepository",
    "ExecResult",
    "FileTooLarge",
    "IsolationUnavailable",
    "Sandbox",
    "SandboxError",
    "WorkspaceError",
    "base_commit_of",
    "is_truncated_patch",
    "make_sandbox",
    "prepare_base_repo",
]


def make_sandbox(kind: str, task: Task, **options: Any) -> Sandbox:
    """Start a sandbox of ``kind`` ("local" or "docker") holding ``task``'s base state at /testbed."""
    if kind == "local":
        from swe_srl.sandbox.local import LocalSandbox

        return LocalSandbox(task, **options)
    if kind == "docker":
        from swe_srl.sandbox.docker_backend import DockerSandbox

        return DockerSandbox(task, **options)
    raise ValueError(f"unknown sandbox kind {kind!r}; expected one of {', '.join(SANDBOX_KINDS)}")
