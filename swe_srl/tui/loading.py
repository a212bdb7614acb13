"""Open any trajectory file the importers read, for the replay views."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from swe_srl.records import RecordError, Trajectory
from swe_srl.trajectories import import_paths


def load_for_replay(path: Path, index: int = 0) -> Trajectory:
    """The ``index``-th trajectory in ``path`` (a single trajectory file holds one)."""
    if not path.exists():
        raise RecordError("no such file", source=str(path))
    if index < 0:
        raise RecordError(f"trajectory index must be >= 0, got {index}", source=str(path))
    found = list(islice(import_paths([path]), index, index + 1))
    if not found:
        raise RecordError(f"holds fewer than {index + 1} trajectories", source=str(path))
    return found[0]
