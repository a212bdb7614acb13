"""One wall budget per task: sandbox starts, agent, grading and teardown all come out of it.

Each phase asks the budget for its timeout (:meth:`Budget.clamp`), so a task stops by itself when
its budget runs out; the watchdog of :mod:`swe_srl.engine.sandboxes` closes the task's sandboxes
at the deadline for whatever does not stop by itself, and the executor abandons (local) or kills
(Ray) a task that still does not return. A task that ends past its deadline is recorded as the
infrastructure error ``timeout``, whatever it returned.
"""

from __future__ import annotations

import math
import threading
import time

from swe_srl.engine.taxonomy import InfrastructureError


class BudgetExceeded(InfrastructureError):
    """A task's wall budget ran out, or the run cancelled it."""

    def __init__(self, message: str):
        super().__init__(message, "timeout")


class Budget:
    """A deadline ``seconds`` from now (none when ``seconds`` is None), and a cancel switch."""

    def __init__(self, seconds: float | None, cancel: threading.Event | None = None):
        self.seconds = seconds
        self.started = time.monotonic()
        self.deadline = math.inf if seconds is None else self.started + seconds
        self.cancel = cancel or threading.Event()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return 0.0 if self.cancel.is_set() else self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def clamp(self, seconds: float | None) -> float | None:
        """``seconds`` cut to what is left of the budget (at least a millisecond)."""
        left = self.remaining()
        if math.isinf(left):
            return seconds
        return max(0.001, left if seconds is None else min(seconds, left))

    def check(self, what: str) -> None:
        """Raise :class:`BudgetExceeded` when nothing is left for ``what``."""
        if self.cancel.is_set():
            raise BudgetExceeded(f"cancelled before {what}")
        if self.expired():
            raise BudgetExceeded(f"task budget of {self.seconds:g}s ran out before {what}")

    def why(self) -> str:
        """The reason recorded for a task stopped by this budget."""
        if self.cancel.is_set() and self.deadline - time.monotonic() > 0:
            return "cancelled"
        return f"task budget of {self.seconds:g}s ran out after {self.elapsed():.1f}s"
