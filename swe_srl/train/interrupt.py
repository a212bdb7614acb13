"""Ctrl-C during ``swe-srl train``: stop at a step boundary with a checkpoint, then say how to resume.

Used by every trainer here (``sft``, ``srl``, ``rlvr``) around ``trainer.train``. The first Ctrl-C
lets the current optimisation step finish, saves a checkpoint (``RUN/checkpoint-N``) and stops;
:meth:`GracefulStop.check` then raises :class:`TrainingInterrupted` instead of saving ``final`` as
if the run had ended. A second Ctrl-C stops at once (``KeyboardInterrupt``): the last checkpoint
saved before it is what ``--resume`` continues from.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from swe_srl.records import SweSrlError


class TrainingInterrupted(SweSrlError):
    """Ctrl-C stopped training after saving the checkpoint of step ``step`` in ``run``."""

    def __init__(self, run: Path, step: int):
        super().__init__(f"training interrupted at step {step}; checkpoint saved in {run}/checkpoint-{step}")
        self.run, self.step = run, step


class GracefulStop(TrainerCallback):
    """Asks the trainer to save and stop at the end of the step during which Ctrl-C came."""

    def __init__(self) -> None:
        self.requested = False
        self.stopped_at: int | None = None

    def request(self) -> None:
        self.requested = True

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.requested and self.stopped_at is None:
            control.should_save = True
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control

    def check(self, run: Path) -> None:
        """Raise :class:`TrainingInterrupted` when Ctrl-C stopped the run (after its checkpoint)."""
        if self.stopped_at is not None:
            raise TrainingInterrupted(Path(run), self.stopped_at)


@contextlib.contextmanager
def graceful_stop(trainer: Any) -> Iterator[GracefulStop]:
    """Add a :class:`GracefulStop` to ``trainer`` and route Ctrl-C to it while the block runs."""
    stop = GracefulStop()
    trainer.add_callback(stop)
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only: Ctrl-C keeps its default there
        return

    def first(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the second Ctrl-C stops at once
        print(
            "\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again stops at once)",
            file=sys.stderr,
            flush=True,
        )
        stop.request()

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
