"""Importers: expert trajectories in other projects' formats into ``swe_srl.records.Trajectory``.

One module per family of formats; each exposes ``import_*(data, where) -> Trajectory`` over one
raw record: SWE-agent ``.traj`` (1.x and 0.x) and its 80k-style dataset rows, SWE-smith chat
transcripts (XML or tool calls), OpenAI-style tool calls (SWE-Gym's sampled rows), OpenHands'
``output.jsonl`` rows and event streams, SWE-Gym's SFT rows, mini-swe-agent (text and tool
calls), Agent Data Protocol, Moatless and ours. ``import_paths`` streams files, directories,
JSONL/JSON-array/parquet collections (parquet one row group at a time; a Hugging Face dataset
written ``hf:OWNER/NAME``, when online), detects each record's format unless one is forced, and
either stops at the first malformed record or, with ``skip_bad``, counts it and goes on. A name
without the ``hf:`` prefix is always a local path: a missing folder is reported at once, never
looked up on a hub.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError, Trajectory
from swe_srl.trajectories.importers.adp import FORMAT as FORMAT_ADP
from swe_srl.trajectories.importers.adp import import_adp
from swe_srl.trajectories.importers.chat import FORMAT_OPENAI, FORMAT_SWESMITH, import_openai, import_swesmith
from swe_srl.trajectories.importers.common import Where
from swe_srl.trajectories.importers.mini import FORMAT as FORMAT_MINI
from swe_srl.trajectories.importers.mini import import_mini
from swe_srl.trajectories.importers.moatless import FORMAT as FORMAT_MOATLESS
from swe_srl.trajectories.importers.moatless import import_moatless
from swe_srl.trajectories.importers.native import FORMAT as FORMAT_NATIVE
from swe_srl.trajectories.importers.native import import_native
from swe_srl.trajectories.importers.openhands import FORMAT as FORMAT_OPENHANDS
from swe_srl.trajectories.importers.openhands import FORMAT_SFT as FORMAT_OPENHANDS_SFT
from swe_srl.trajectories.importers.openhands import import_openhands_output, import_openhands_sft
from swe_srl.trajectories.importers.sweagent import (
    FORMAT_LEGACY,
    FORMAT_V1,
    import_sweagent_legacy,
    import_sweagent_v1,
)
from swe_srl.trajectories.importers.sweagent_rows import FORMAT as FORMAT_SWEAGENT_ROWS
from swe_srl.trajectories.importers.sweagent_rows import import_sweagent_rows
from swe_srl.trajectories.io import RawRecord, expand_paths, iter_raw_records

Importer = Callable[[Any, Where], Trajectory]

IMPORTERS: dict[str, Importer] = {
    FORMAT_V1: import_sweagent_v1,
    FORMAT_LEGACY: import_sweagent_legacy,
    FORMAT_SWEAGENT_ROWS: import_sweagent_rows,
    FORMAT_SWESMITH: import_swesmith,
    FORMAT_MINI: import_mini,
    FORMAT_OPENAI: import_openai,
    FORMAT_OPENHANDS: import_openhands_output,
    FORMAT_OPENHANDS_SFT: import_openhands_sft,
    FORMAT_ADP: import_adp,
    FORMAT_MOATLESS: import_moatless,
    FORMAT_NATIVE: import_native,
}
FORMATS = tuple(IMPORTERS)
HUB_PREFIX = "hf:"  # the one way to name a Hugging Face dataset as input
_HF_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class ImportReport:
    """What an import run did: how many trajectories came out and which records were skipped."""

    imported: int = 0
    skipped: list[str] = field(default_factory=list)  # one RecordError message per skipped record
    formats: dict[str, int] = field(default_factory=dict)


def import_record(raw: RawRecord, fmt: str | None = None) -> Trajectory:
    """One raw record as a trajectory; any malformation becomes a ``RecordError`` naming file and record."""
    from swe_srl.trajectories.detect import detect_format

    if fmt is not None and fmt not in IMPORTERS:
        raise RecordError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}", source=raw.source)
    name = fmt or detect_format(raw.data, source=raw.source, record=raw.record)
    try:
        return IMPORTERS[name](raw.data, Where(raw.source, raw.record))
    except RecordError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as err:
        # Importers check the fields they rely on; this catches shapes nobody anticipated.
        raise RecordError(
            f"malformed {name} record: {type(err).__name__}: {err}", source=raw.source, record=raw.record
        ) from None


def _hf_records(name: str, split: str) -> Iterator[RawRecord]:
    source = f"{HUB_PREFIX}{name}"
    if not _HF_NAME.match(name):
        raise RecordError("a Hugging Face dataset is named hf:OWNER/NAME", source=source)
    import datasets  # heavy, and needs the network: only for dataset names

    try:
        rows = datasets.load_dataset(name, split=split, streaming=True)
        for index, row in enumerate(rows):
            yield RawRecord(source, f"row {index}", row)
    except Exception as err:  # offline, unknown name, no such split: all the caller can act on
        raise RecordError(f"cannot load the dataset's {split!r} split: {err}", source=source) from None


def _raw_records(paths: Iterable[str | Path], errors: list[RecordError], split: str) -> Iterator[RawRecord]:
    """Raw records of every input; unreadable files/lines go to ``errors`` instead of stopping."""
    for raw_path in paths:
        text = str(raw_path)
        if text.startswith(HUB_PREFIX) and not Path(text).exists():
            yield from _hf_records(text.removeprefix(HUB_PREFIX), split)
            continue
        try:
            files = list(expand_paths([raw_path]))
        except RecordError as err:
            hint = f"no such file or directory (a Hugging Face dataset is written {HUB_PREFIX}{text})"
            # say how to mean a dataset; never guess one from a missing path
            named_a_dataset = _HF_NAME.match(text) and not Path(text).exists()
            errors.append(RecordError(hint, source=text) if named_a_dataset else err)
            continue
        for path in files:
            yield from iter_raw_records(path, errors=errors)


def import_paths(
    paths: Iterable[str | Path],
    *,
    fmt: str | None = None,
    skip_bad: bool = False,
    report: ImportReport | None = None,
    split: str = "train",
) -> Iterator[Trajectory]:
    """Stream trajectories from every input; ``skip_bad`` counts malformed records in ``report``."""
    report = report if report is not None else ImportReport()
    errors: list[RecordError] = []
    for raw in _raw_records(paths, errors, split):
        _drain(errors, report, skip_bad)
        try:
            traj = import_record(raw, fmt)
        except RecordError as err:
            if not skip_bad:
                raise
            report.skipped.append(str(err))
            continue
        report.imported += 1
        report.formats[traj.source_format] = report.formats.get(traj.source_format, 0) + 1
        yield traj
    _drain(errors, report, skip_bad)


def _drain(errors: list[RecordError], report: ImportReport, skip_bad: bool) -> None:
    if errors and not skip_bad:
        raise errors[0]
    report.skipped.extend(str(err) for err in errors)
    errors.clear()


def import_to_directory(
    paths: Iterable[str | Path], out_dir: str | Path, *, fmt: str | None = None, skip_bad: bool = False
) -> ImportReport:
    """Import every input and write one ``<trajectory id>.traj.json`` per trajectory under ``out_dir``.

    Two trajectories with the same id get distinct file names (``-2``, ``-3`` ...), never overwrite.
    """
    from swe_srl.trajectories.io import safe_file_name, write_trajectory

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = ImportReport()
    used: set[str] = set()
    for traj in import_paths(paths, fmt=fmt, skip_bad=skip_bad, report=report):
        base = safe_file_name(str(traj.metadata.get("trajectory_id") or traj.instance_id))
        name, number = base, 1
        while name in used:
            number += 1
            name = f"{base}-{number}"
        used.add(name)
        write_trajectory(traj, out / f"{name}.traj.json")
    return report
