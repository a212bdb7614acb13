"""Ctrl-C during a run: the first stops scheduling and drains, the second cancels at once.

While a run is going, SIGINT no longer raises ``KeyboardInterrupt`` in the driver: it sets a flag
the run loop reads between ticks. After the first, no new task starts and running ones get a bounded
time to finish; after the second (or when that time is up) they are cancelled. Either way every
sandbox of the run is reaped before the command exits, which then raises :class:`RunInterrupted`
for the command to print how to resume.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from swe_srl.records import SweSrlError

EXIT_CODE = 130  # what a shell reports for a command ended by SIGINT


class RunInterrupted(SweSrlError):
    """A run stopped by Ctrl-C after recording what finished; ``not_run`` jobs are left to resume."""

    def __init__(self, finished: int, not_run: int, where: str = ""):
        self.finished, self.not_run, self.where = finished, not_run, where
        super().__init__(f"interrupted: {finished} finished and recorded, {not_run} not run")


class Interrupts:
    """Counts SIGINTs while active (only in the main thread; elsewhere it never fires)."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: object = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1

    @property
    def stopping(self) -> bool:
        return self.count >= 1

    @property
    def cancelling(self) -> bool:
        return self.count >= 2

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._installed = False
