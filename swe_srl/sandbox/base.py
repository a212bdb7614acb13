"""The sandbox protocol: where an agent's untrusted commands run.

Both backends (``local`` = bubblewrap, ``docker``) satisfy this protocol without inheriting from
anything. The task repository always lives at ``/testbed`` inside the sandbox, as in SWE-bench and
SWE-smith, so absolute paths in real expert trajectories work unchanged.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from swe_srl.records import ExecResult, SweSrlError

TESTBED = "/testbed"
DEFAULT_OUTPUT_LIMIT = 100_000  # characters kept from one command's output
TRUNCATION_MARKER = "\n<output truncated: {dropped} characters omitted>\n"


class SandboxError(SweSrlError):
    """The sandbox itself failed (not the agent's command): start-up, engine gone, container killed."""


class IsolationUnavailable(SandboxError):
    """No isolation mechanism is available and the user did not explicitly opt out of isolation."""


@runtime_checkable
class Sandbox(Protocol):
    """A workspace holding the task repository at ``/testbed`` and a shell to run commands in."""

    def run(self, cmd: str, timeout: float = 60.0) -> ExecResult:
        """Run ``cmd`` with bash in ``/testbed`` (state persists across calls where the backend can)."""
        ...

    def read_file(self, path: str) -> bytes:
        """Read a file by its path inside the sandbox."""
        ...

    def write_file(self, path: str, data: bytes | str) -> None:
        """Write a file by its path inside the sandbox (parents created)."""
        ...

    def diff(self) -> str:
        """The workspace's git diff against the task's base commit (new files included)."""
        ...

    def reset(self) -> None:
        """Restore the workspace to the task's base commit, in place."""
        ...

    def kill_processes(self) -> None:
        """End every process running in the sandbox; files stay as they are (the grader reads
        results only once nothing started by the tests can still write)."""
        ...

    def close(self) -> None:
        """Release everything; idempotent."""
        ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(self, *exc: object) -> None: ...
