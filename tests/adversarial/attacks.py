"""Helpers of the containment suite: the limits it runs under and attacks through the real tools."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from swe_srl.records import Action
from swe_srl.sandbox.limits import ResourceLimits
from swe_srl.tools.executor import ToolResult, execute

# Tight enough that an attack hits them within seconds, loose enough for git and pytest.
TEST_LIMITS = ResourceLimits(
    pids=256, memory_bytes=1 << 30, file_size_bytes=64 << 20, open_files=1024, tmpfs_bytes=64 << 20
)


def bash(sandbox, command: str, timeout: float = 20.0) -> ToolResult:
    """Run a command through the real tool layer, as an agent's action would."""
    return execute(sandbox, Action("bash", {"command": command}), timeout=timeout)


def editor(sandbox, timeout: float = 60.0, **args) -> ToolResult:
    return execute(sandbox, Action("str_replace_editor", args), timeout=timeout)


def assert_usable(sandbox) -> None:
    """The next step after an attack works normally."""
    result = bash(sandbox, "echo still-alive; pwd")
    assert (result.observation, result.exit_code) == ("still-alive\n/testbed", 0), result


def _state(pid: int | str) -> str | None:
    """The one-letter state of a process (``Z`` for a zombie), ``None`` when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return None


def host_processes_running(command_line: str) -> list[int]:
    """Pids of live (not zombie) processes on this machine whose command line is ``command_line``.

    An exact match on purpose: a process caught between two ``exec`` calls (``setsid`` -> ``nohup``
    -> ``sleep``) shows an empty command line for an instant, so a substring seen once can vanish
    on the next read without the process having died.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ")
        except OSError:
            continue
        if cmdline.decode(errors="replace") == command_line and _state(entry.name) not in (None, "Z"):
            found.append(int(entry.name))
    return found


def pids_alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (reaped or zombie counts as gone)."""
    return [pid for pid in pids if _state(pid) not in (None, "Z")]


def wait_until(probe, seconds: float = 5.0):
    """Call ``probe`` until it returns something truthy or ``seconds`` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def sandboxed_process_count() -> int:
    """Processes on the host in a pid namespace other than this one's: sandboxes' processes (both
    backends give each sandbox its own), not the rest of a busy host (Ray, servers, other tests)."""
    own = os.readlink("/proc/self/ns/pid")
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                count += os.readlink(entry / "ns" / "pid") != own
    return count
