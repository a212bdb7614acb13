"""Every sandbox one task opens: started under its node's cap, leased, and closed at its deadline.

A :class:`SandboxTracker` is installed as the sandbox opener (:func:`swe_srl.sandbox.sandbox_opener`)
while a task runs, so the agent's sandbox, the grader's, and any other the task's code opens all
pass through it. Its watchdog thread closes them all when the task's budget runs out (plus a short
grace, so a phase stopping by itself at the deadline goes first) or the run cancels the task: the
command a stuck task waits on dies, and the task returns. Leases are removed when the task ends.

A sandbox still starting when its task is cancelled is not tracked yet (its workspace exists, its
object does not): :func:`wait_for_starts` lets the run's final sweep wait for such starts to end, so
the start closes what it made (it sees the task reaped) before the process exits.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from swe_srl.engine.budget import Budget, BudgetExceeded
from swe_srl.engine.leases import drop_lease, write_lease
from swe_srl.engine.node import NodeState
from swe_srl.records import Task

WATCH_SECONDS = 0.25  # how often the watchdog looks at the cancel switch
DEADLINE_GRACE = 2.0  # the watchdog waits this long past the deadline for a phase to stop itself
REAP_WAIT = 60.0  # how long a task waits for its watchdog to finish closing its sandboxes

_starting = threading.Condition()
_starts_in_progress = 0  # sandbox starts under way in this process


def wait_for_starts(timeout: float) -> bool:
    """Wait until no sandbox start is under way in this process (at most ``timeout`` seconds)."""
    with _starting:
        return _starting.wait_for(lambda: _starts_in_progress == 0, timeout)


def _count_start(delta: int) -> None:
    global _starts_in_progress
    with _starting:
        _starts_in_progress += delta
        _starting.notify_all()


class SandboxTracker:
    """The sandbox opener of one task (see the module docstring)."""

    def __init__(self, *, run_id: str, key: str, node: NodeState, budget: Budget, start_cap: int):
        self.run_id, self.key, self.node, self.budget, self.start_cap = run_id, key, node, budget, start_cap
        self.starts: list[float] = []  # seconds each sandbox took to start
        self.reaped = False
        self._open: list[tuple[Any, Path]] = []  # (sandbox, its lease)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name=f"budget:{key}", daemon=True)

    def open(self, kind: str, task: Task, options: dict[str, Any]) -> Any:
        """Start a sandbox as ``make_sandbox(kind, task, **options)`` would, tracked."""
        from swe_srl.sandbox import open_sandbox

        self.budget.check("a sandbox start")
        _count_start(+1)
        try:
            with self.node.start_slot(self.start_cap, self.budget):
                began = time.monotonic()
                sandbox = open_sandbox(kind, task, **options)
            self.starts.append(round(time.monotonic() - began, 3))
            lease = write_lease(self.run_id, self.key, sandbox)
            with self._lock:
                self._open.append((sandbox, lease))
                reaped = self.reaped
            if reaped:  # the deadline passed, or the run cancelled the task, while it started
                self._close_all()
                raise BudgetExceeded(self.budget.why())
            return sandbox
        finally:
            _count_start(-1)

    def _close_all(self) -> list[Path]:
        """Close every sandbox (idempotent); return the leases of those that failed to close."""
        with self._lock:
            opened = list(self._open)
        failed = []
        for sandbox, lease in opened:
            try:
                sandbox.close()
            except Exception:
                failed.append(lease)  # the run's final sweep reaps it
        return failed

    def _watch(self) -> None:
        while not self._done.wait(WATCH_SECONDS):
            if self.budget.cancel.is_set() or self.budget.remaining() < -DEADLINE_GRACE:
                with self._lock:
                    self.reaped = True
                self._close_all()
                return

    def __enter__(self) -> SandboxTracker:
        self._watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        # A sandbox the watchdog is closing reports itself closed at once: wait for the watchdog to
        # finish removing it before the leases go (a closing that hangs leaves them to the sweep).
        self._watchdog.join(timeout=REAP_WAIT)
        if self._watchdog.is_alive():
            return
        failed = self._close_all()
        with self._lock:
            opened, self._open = self._open, []
        for _, lease in opened:
            if lease not in failed:
                drop_lease(lease)
