"""Every trajectory importer on damaged copies of real records: a Trajectory or a RecordError.

The originals are the real expert trajectories in tests/fixtures (SWE-agent, SWE-smith, mini-swe-agent), an
OpenAI-style chat record and our native format; each example deletes, retypes, truncates or
empties a few fields anywhere in one of them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from fuzzing import EXAMPLE_COUNTS, JSON_VALUES, mutated, run_fuzz
from hypothesis import strategies as st

from swe_srl.records import SweSrlError, Trajectory
from swe_srl.trajectories.importers import FORMATS, import_record
from swe_srl.trajectories.io import RawRecord, iter_raw_records, trajectory_from_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trajectories"


def _openai_record() -> dict:
    call = {"id": "c0", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}
    return {
        "instance_id": "demo__x-1",
        "messages": [
            {"role": "system", "content": "You are an agent."},
            {"role": "user", "content": "Fix the bug."},
            {"role": "assistant", "content": "Look first.", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c0", "content": "a.py\n"},
        ],
    }


def _originals() -> list:
    records = [raw.data for path in sorted(FIXTURES.iterdir()) for raw in iter_raw_records(path)]
    native = import_record(RawRecord("mini", "", records[0])).to_dict()
    return [*records, _openai_record(), json.loads(json.dumps(native))]


ORIGINALS = _originals()
RECORDS = st.one_of(mutated(ORIGINALS), JSON_VALUES)


def _check(data) -> None:
    raw = RawRecord("fuzz.traj", "", data)
    for fmt in (None, *FORMATS):
        with contextlib.suppress(SweSrlError):
            assert isinstance(import_record(raw, fmt), Trajectory)
    trajectory_from_dict(data, source="fuzz.traj")


def test_originals_import():
    assert len(ORIGINALS) == 5
    for data in ORIGINALS:
        assert import_record(RawRecord("fixture", "", data)).steps


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_importers(examples):
    run_fuzz(RECORDS, _check, examples)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_raw_files(examples, tmp_path_factory):
    """Damaged files (bytes) through the file readers: typed errors only."""
    folder = tmp_path_factory.mktemp("raw")
    head = (FIXTURES / "mini_github_issue.traj.json").read_bytes()[:3000]

    def check(args) -> None:
        suffix, content = args
        path = folder / f"record{suffix}"
        path.write_bytes(content)
        errors: list = []
        for raw in iter_raw_records(path, errors):
            with contextlib.suppress(SweSrlError):
                import_record(raw)

    contents = st.one_of(
        st.binary(max_size=400),
        st.builds(lambda n, b: head[:n] + b, st.integers(0, 3000), st.binary(max_size=20)),
    )
    run_fuzz(st.tuples(st.sampled_from([".json", ".jsonl", ".traj"]), contents), check, examples)
