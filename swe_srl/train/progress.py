"""What a person watching a training run sees: one progress bar and one compact line per log.

The main process draws a rich progress bar (step, epoch, elapsed time, ETA) and prints, above it,
one line per logging step (``step 12/300  epoch 0.40  loss 1.23  reward 0.512 ...``) with the
numbers rounded, a line per held-out evaluation, and a closing summary. transformers' own printer
(one raw dict per log) is replaced by this callback. ``format_log_line`` is the pure part.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

# (log key, label) in the order a line shows them; other keys stay in metrics.jsonl and TensorBoard.
LINE_KEYS: tuple[tuple[str, str], ...] = (
    ("loss", "loss"),
    ("eval_loss", "held-out loss"),
    ("reward", "reward"),
    ("reward_std", "reward std"),
    ("dynamic_sampling/kept_fraction", "kept"),
    ("dynamic_sampling/rounds", "rounds"),
    ("completions/mean_length", "len"),
    ("mean_token_accuracy", "token acc"),
    ("grad_norm", "grad"),
    ("learning_rate", "lr"),
)


def short_number(value: float) -> str:
    """Three significant digits; scientific notation for very small or large magnitudes."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.3g}"
    return f"{value:.2e}"


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_log_line(step: int, max_steps: int, logs: dict[str, Any]) -> str:
    """One line for one trainer log: the step counter, then the main numbers, rounded."""
    if "train_runtime" in logs:
        loss = logs.get("train_loss")
        loss_text = f", mean train loss {short_number(loss)}" if isinstance(loss, int | float) else ""
        return f"finished {step} steps in {format_duration(logs['train_runtime'])}{loss_text}"
    parts = [f"step {step}/{max_steps}" if max_steps > 0 else f"step {step}"]
    if isinstance(logs.get("epoch"), int | float):
        parts.append(f"epoch {logs['epoch']:.2f}")
    for key, label in LINE_KEYS:
        value = logs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(f"{label} {short_number(float(value))}")
    return "  ".join(parts)


def format_eval_line(step: int, record: dict[str, Any]) -> str:
    return (
        f"held-out at step {step}: mean step reward {record['mean_step_reward']:.3f}  "
        f"exact {record['exact_match_rate']:.3f}  format errors {record['format_error_rate']:.3f}  "
        f"({record['count']} rows)"
    )


class ProgressCallback(TrainerCallback):
    """A rich progress bar and compact log lines on the main process (stderr, like tqdm)."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.progress = None
        self.task = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epoch {task.fields[epoch]:.2f}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(
            "training", total=state.max_steps, completed=state.global_step, epoch=state.epoch or 0.0
        )

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, epoch=state.epoch or 0.0)

    def print(self, line: str) -> None:
        (self.progress.console if self.progress is not None else self.console).print(
            line, highlight=False, soft_wrap=True
        )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            self.print(format_log_line(state.global_step, state.max_steps, logs))

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def quiet_libraries() -> None:
    """Silence progress bars of the libraries under the trainer that repeat ours, and one deprecation
    notice that is not ours to fix: TRL 1.16 reads ``model.is_gradient_checkpointing``, which
    transformers 5.18+ renamed (our own settings use the new names; see ``common.trainer_args``)."""
    import warnings

    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
