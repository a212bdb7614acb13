"""``results.jsonl``: one graded task per line, appended as tasks finish, safe against crashes.

Each line is written whole, flushed and fsynced before the next task is recorded, so a run killed
at any point loses at most the line being written. A torn last line (no newline, or not JSON) is
ignored on reading and cut off before the next append, so earlier lines are never corrupted and a
rerun resumes with exactly the tasks that were finished.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

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
        if not self.path.exists():
            return {}
        results: dict[str, EvalResult] = {}
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        complete = lines if raw.endswith(b"\n") else lines[:-1]
        for number, line in enumerate(complete, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                if number == len(complete):
                    continue  # torn by a crash mid-write
                raise RecordError("not valid JSON", source=str(self.path), record=f"line {number}") from None
            result = result_from_dict(data, source=str(self.path), line=number)
            results[result.instance_id] = result
        return results

    def _cut_torn_tail(self) -> None:
        """Drop bytes after the last newline (a line a crash left half-written)."""
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            keep = raw.rfind(b"\n") + 1
            with self.path.open("r+b") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, result: EvalResult) -> None:
        line = json.dumps(result.to_dict(), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._cut_torn_tail()
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
