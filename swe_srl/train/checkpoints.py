"""Which ``checkpoint-N`` folder of a run ``--resume`` continues from.

The Trainer writes ``checkpoint-N`` in place: weights first, then optimizer, scheduler and RNG
state, and ``trainer_state.json`` last. A run killed while saving leaves a newest folder without
its trainer state (or with a torn one) and sometimes without weights. Resuming from it fails, so
the resume point is the newest *complete* checkpoint. Incomplete folders are moved aside to
``RUN/incomplete/`` and reported, never deleted: the resumed run then writes a clean
``checkpoint-N`` of its own, and the Trainer's rotation (which globs ``checkpoint-*``) never
counts or removes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PREFIX = "checkpoint-"
SET_ASIDE_DIR = "incomplete"
# Model weights as the Trainer saves them: safetensors/bin files (full model or adapter, single or
# sharded), FSDP's sharded-state folders, DeepSpeed's global_step folders.
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "pytorch_model_fsdp_*", "global_step*")


@dataclass(frozen=True)
class IncompleteCheckpoint:
    folder: Path
    missing: str  # what makes it unusable, for the report


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint to continue from (None: start from step 0) and the folders passed over."""

    checkpoint: Path | None
    incomplete: tuple[IncompleteCheckpoint, ...] = ()

    @property
    def step(self) -> int:
        return (checkpoint_step(self.checkpoint) or 0) if self.checkpoint else 0


def checkpoint_step(folder: Path) -> int | None:
    """N of a ``checkpoint-N`` folder; None for any other name."""
    number = folder.name.removeprefix(PREFIX)
    return int(number) if folder.name.startswith(PREFIX) and number.isdigit() else None


def missing_parts(folder: Path) -> str | None:
    """Why a checkpoint folder cannot be resumed from, or None when it is complete."""
    state = folder / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json"
    try:
        step = json.loads(state.read_text(encoding="utf-8")).get("global_step")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "trainer_state.json is not complete JSON"
    if not isinstance(step, int):
        return "trainer_state.json has no global_step"
    if not any(any(folder.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        return "no model weights"
    return None


def resume_point(run: Path) -> ResumePoint:
    """The newest complete checkpoint of ``run`` and every incomplete one (all read-only)."""
    folders = sorted(
        (p for p in run.glob(f"{PREFIX}*") if p.is_dir() and checkpoint_step(p) is not None),
        key=checkpoint_step,
    )
    complete: list[Path] = []
    incomplete: list[IncompleteCheckpoint] = []
    for folder in folders:
        reason = missing_parts(folder)
        if reason is None:
            complete.append(folder)
        else:
            incomplete.append(IncompleteCheckpoint(folder, reason))
    return ResumePoint(complete[-1] if complete else None, tuple(incomplete))


def set_aside(run: Path, point: ResumePoint) -> list[tuple[IncompleteCheckpoint, Path]]:
    """Move the incomplete checkpoints to ``RUN/incomplete/`` (a free name each); returns the moves."""
    moved = []
    for item in point.incomplete:
        target = run / SET_ASIDE_DIR / item.folder.name
        suffix = 1
        while target.exists():
            target = run / SET_ASIDE_DIR / f"{item.folder.name}.{suffix}"
            suffix += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        item.folder.rename(target)
        moved.append((item, target))
    return moved
