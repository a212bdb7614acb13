"""The sandbox protocol: where an agent's untrusted commands run.

Both backends (``local`` = bubblewrap, ``docker``) satisfy this protocol without inheriting from
anything. The task repository always lives at ``/testbed`` inside the sandbox, as in SWE-bench and
SWE-smith, so absolute paths in real expert trajectories work unchanged.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from swe_srl.records import ExecResult, SweSrlError

TESTBED = "/testbed"
DEFAULT_OUTPUT_LIMIT = 100_000  # characters kept from one command's output
TRUNCATION_MARKER = "\n<output truncated: {dropped} characters omitted>\n"
DEFAULT_READ_LIMIT = 64 << 20  # bytes ``read_file`` returns at most unless the caller allows more
# A patch is text a grader applies: SWE-bench patches are kilobytes, so one past this cap is the
# agent's doing (a generated or copied blob) and is cut instead of being read whole into host memory.
PATCH_LIMIT_BYTES = 10 << 20
PATCH_TRUNCATION_MARKER = "\n<swe-srl: patch truncated: the workspace's diff is larger than {limit} bytes>\n"
_TRUNCATED = re.compile(re.escape(PATCH_TRUNCATION_MARKER).replace(re.escape("{limit}"), r"\d+") + r"\Z")


class SandboxError(SweSrlError):
    """The sandbox itself failed (not the agent's command): start-up, engine gone, container killed."""


class IsolationUnavailable(SandboxError):
    """No isolation mechanism is available and the user did not explicitly opt out of isolation."""


class ScriptError(SandboxError):
    """A script of the harness ran to its end in a working shell and failed (not a dead or hung shell)."""

    def __init__(self, what: str, exit_code: int, output: str):
        super().__init__(f"{what} failed (exit {exit_code}): {output[-2000:]}")
        self.exit_code, self.output = exit_code, output


class BrokenRepository(SandboxError):
    """git cannot diff the workspace: the agent broke its repository (``.git`` removed or corrupted).

    The sandbox itself works; the patch is empty until git works again (``reset()`` restores the
    base). The message ends with git's complaint, which the agent also reads after its next command.
    """


class FileTooLarge(SandboxError):
    """``read_file`` refused a file larger than the caller's ``max_bytes`` (nothing was read past it)."""

    def __init__(self, path: str, size: int, limit: int):
        super().__init__(f"cannot read {path}: it is larger than {limit} bytes ({size} bytes or more)")
        self.path, self.size, self.limit = path, size, limit


def truncate_patch(patch: str, limit: int = PATCH_LIMIT_BYTES) -> str:
    """``patch`` cut to ``limit`` UTF-8 bytes with the visible marker (unchanged when it fits)."""
    data = patch.encode("utf-8", errors="surrogateescape")
    if len(data) <= limit:
        return patch
    head = data[:limit].decode("utf-8", errors="ignore")  # never end inside a character
    return head + PATCH_TRUNCATION_MARKER.format(limit=limit)


def is_truncated_patch(patch: str) -> bool:
    """Whether ``diff()`` cut this patch at its size cap: grade it as too large, never apply it."""
    return _TRUNCATED.search(patch[-200:]) is not None


@runtime_checkable
class Sandbox(Protocol):
    """A workspace holding the task repository at ``/testbed`` and a shell to run commands in."""

    def run(self, cmd: str, timeout: float = 60.0) -> ExecResult:
        """Run ``cmd`` with bash in ``/testbed`` (state persists across calls where the backend can)."""
        ...

    def read_file(self, path: str, max_bytes: int = DEFAULT_READ_LIMIT) -> bytes:
        """Read a regular file by its path inside the sandbox, without ever blocking.

        Anything but a regular file (a FIFO, a socket, a directory) raises :class:`SandboxError` at
        once; a file larger than ``max_bytes`` raises :class:`FileTooLarge`, and the host never holds
        more than about ``max_bytes`` of it in memory.
        """
        ...

    def write_file(self, path: str, data: bytes | str) -> None:
        """Write a file by its path inside the sandbox (parents created)."""
        ...

    def diff(self) -> str:
        """The workspace's git diff against the task's base commit (new files included).

        Cut at :data:`PATCH_LIMIT_BYTES` with :data:`PATCH_TRUNCATION_MARKER` when larger
        (:func:`is_truncated_patch` tells). Nested repositories and files git cannot read are left
        out, never an error; nothing from the workspace's git configuration (hooks, fsmonitor,
        filters, external diff) is executed. Raises :class:`BrokenRepository` when the agent broke
        ``.git`` so that git cannot diff at all.
        """
        ...

    def reset(self) -> None:
        """Start a new episode: the base commit, ``.git`` included, and nothing else of the last one.

        Every process is killed, ``/tmp``, ``$HOME`` and the shell's state are fresh, untracked and
        ignored files (nested repositories too) are gone, and ``.git`` is the pristine base's.
        """
        ...

    def kill_processes(self) -> None:
        """Kill every process in the sandbox (commands, background jobs, the shell) and wait for it.

        The workspace is untouched; the next ``run()`` starts a fresh shell at ``/testbed``. After it
        returns no process of the sandbox can write anything any more (the grader relies on this
        before it reads results).
        """
        ...

    def close(self) -> None:
        """Release everything; idempotent."""
        ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(self, *exc: object) -> None: ...
