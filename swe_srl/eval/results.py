"""``results.jsonl``: one graded task per line, appended as tasks finish, safe against crashes.

Each line is written whole, flushed and fsynced before the next task is recorded, so a run killed
at any point loses at most the line being written. A torn last line (no newline, or not JSON) is
ignored on reading and cut off before the next append, so earlier lines are never corrupted and a
rerun resumes with exactly the tasks that were finished.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from swe_srl.jsonl import append_record, read_records
from swe_srl.records import EvalResult, RecordError

_FIELDS = {f.name for f in dataclasses.fields(EvalResult)}


def result_from_dict(data: dict, *, source: str = "", line: int = 0) -> EvalResult:
    """An ``EvalResult`` from its JSON form; unknown keys are ignored, missing ones are errors."""
    if not isinstance(data, dict) or not isinstance(data.get("instance_id"), str):
        raise RecordError("not a result object with an instance_id", source=source, record=f"line {line}")
    for name in ("status", "resolved"):
        if name not in data:
            raise RecordError("missing", source=source, record=data["instance_id"], field_name=name)
    return EvalResult(**{k: v for k, v in data.items() if k in _FIELDS})


class ResultsLog:
    """Append-only, crash-safe store of per-task results (last line per instance wins)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self) -> dict[str, EvalResult]:
        """Every complete line, by instance id; a torn last line is skipped."""
        results: dict[str, EvalResult] = {}
        for number, data in read_records(self.path):
            result = result_from_dict(data, source=str(self.path), line=number)
            results[result.instance_id] = result
        return results

    def append(self, result: EvalResult) -> None:
        with self._lock:
            append_record(self.path, result.to_dict(), sync=True)
