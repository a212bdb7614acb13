"""Append-only JSON Lines logs that survive a crash: ``results.jsonl`` and ``metrics.jsonl``.

A writer killed mid-line leaves a torn last line (no newline after it, or not JSON). Readers skip
it; writers cut it off before their next append, so earlier lines are never corrupted and a resumed
run continues from exactly the records that were finished. A bad line anywhere else is real damage
and a :class:`~swe_srl.records.RecordError` naming the file and line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError


def read_records(path: Path) -> list[tuple[int, Any]]:
    """``(line number, value)`` for every complete line of ``path``; a torn last line is skipped."""
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")
    lines.pop()  # after the last newline: nothing, or a line whose writer was killed (cut on append)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except ValueError as err:
            raise RecordError(f"not valid JSON: {err}", source=str(path), record=f"line {number}") from None
    return records


def cut_torn_tail(path: Path) -> bool:
    """Drop the bytes after the last newline (a line a crash left half-written); whether any were."""
    if not path.is_file():
        return False
    raw = path.read_bytes()
    if not raw or raw.endswith(b"\n"):
        return False
    with path.open("r+b") as handle:
        handle.truncate(raw.rfind(b"\n") + 1)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def append_record(path: Path, record: Any, *, sync: bool = False) -> None:
    """Append ``record`` as one line after cutting a torn tail; ``sync`` fsyncs it (results)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cut_torn_tail(path)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        if sync:
            os.fsync(handle.fileno())
