"""Ctrl-C during training: the first press stops cleanly with a checkpoint, a second one exits at once.

The first SIGINT only raises a flag. At the end of the current optimizer step every process agrees
on it (one all-reduce: ranks may see the signal a step apart, and stopping at different steps
would leave collectives waiting), the trainer saves a checkpoint and stops, and the run ends with
the command that resumes it. A second SIGINT restores Python's handler and interrupts at once.

Under ``accelerate launch`` the launcher forwards a terminal's SIGINT to each worker, so a worker
receives the same press twice in quick succession: presses closer than ``SAME_PRESS_SECONDS`` count
as one. The launcher kills workers that have not exited after its own grace period (torchrun's is 30 s),
which a large checkpoint may not fit in; the last periodic checkpoint is then the one to resume.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from transformers import TrainerCallback

SAME_PRESS_SECONDS = 1.0


class InterruptCallback(TrainerCallback):
    """Install with ``with InterruptCallback() as stop:``; ``stop.stopped_at`` is the step it saved at."""

    def __init__(self):
        self.requested_at: float | None = None
        self.stopped_at: int | None = None
        self._previous = None

    def __enter__(self) -> InterruptCallback:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum, frame) -> None:
        now = time.monotonic()
        if self.requested_at is None:
            self.requested_at = now
            print(
                "\ninterrupt: stopping after this step and saving a checkpoint (Ctrl-C again to exit now)",
                file=sys.stderr,
                flush=True,
            )
            return
        if now - self.requested_at < SAME_PRESS_SECONDS:
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        raise KeyboardInterrupt

    def _agreed(self) -> bool:
        """True on every process when any process was interrupted."""
        from accelerate import PartialState

        state = PartialState()
        if state.num_processes == 1:
            return self.requested_at is not None
        import torch

        flag = torch.tensor([1.0 if self.requested_at is not None else 0.0], device=state.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())

    def on_step_end(self, args, state, control, **kwargs):
        if self.stopped_at is None and self._agreed():
            self.stopped_at = state.global_step
            control.should_save = True
            control.should_training_stop = True
        return control
