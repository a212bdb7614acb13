"""The task loader on damaged rows and files: a Task or a RecordError, nothing else."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from fuzzing import EXAMPLE_COUNTS, JSON_VALUES, mutated, run_fuzz
from hypothesis import strategies as st

from swe_srl.records import SweSrlError, Task
from swe_srl.tasks.loader import load_tasks
from swe_srl.tasks.schema import TASK_FIELDS, RowRef, task_from_row

ENVS = Path(__file__).resolve().parents[2] / "envs"
REAL_ROWS = [
    json.loads(line)
    for path in (ENVS / "bundled" / "tasks.jsonl", ENVS / "sample" / "tasks.jsonl")
    if path.is_file()
    for line in path.read_text().splitlines()[:6]
    if line.strip()
]
FIELD_ROWS = st.dictionaries(
    st.one_of(st.sampled_from(sorted(TASK_FIELDS)), st.text(max_size=8)), JSON_VALUES, max_size=12
)
ROWS = st.one_of(mutated(REAL_ROWS), FIELD_ROWS, JSON_VALUES)


def _check_row(row) -> None:
    task = task_from_row(row, RowRef("fuzz.jsonl", "line 1"), base_dir=Path("/nonexistent"))
    assert isinstance(task, Task) and task.instance_id


def test_real_rows_load():
    assert len(REAL_ROWS) >= 2
    for row in REAL_ROWS:
        _check_row(row)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_task_rows(examples):
    run_fuzz(ROWS, _check_row, examples)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_task_files(examples, tmp_path_factory):
    """Whole files: damaged JSON/JSONL bytes around real rows."""
    folder = tmp_path_factory.mktemp("tasks")
    real = "\n".join(json.dumps(row) for row in REAL_ROWS[:2]).encode()

    def check(args) -> None:
        suffix, content = args
        path = folder / f"tasks{suffix}"
        path.write_bytes(content)
        with contextlib.suppress(SweSrlError):
            for task in load_tasks(path, fill_base_commit=False):
                assert isinstance(task, Task)

    spliced = st.builds(
        lambda n, junk: real[:n] + junk + real[n:], st.integers(0, len(real)), st.binary(max_size=8)
    )
    run_fuzz(
        st.tuples(st.sampled_from([".json", ".jsonl"]), st.one_of(st.binary(max_size=300), spliced)),
        check,
        examples,
    )
