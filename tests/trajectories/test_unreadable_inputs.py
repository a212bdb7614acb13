"""Inputs that cannot be read: a long import goes on past them when asked, and each is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from swe_srl.records import RecordError
from swe_srl.trajectories.importers import ImportReport, import_paths
from swe_srl.trajectories.step_writer import iter_step_instances
from swe_srl.trajectories.steps import build_step_dataset

FIXTURES = Path(__file__).parent.parent / "fixtures" / "trajectories"


def test_unreadable_parquet_is_counted_and_skipped_with_skip_bad(tmp_path):
    shutil.copy(FIXTURES / "swesmith_pandas_53856.traj", tmp_path / "a.traj")
    (tmp_path / "b.parquet").write_bytes(b"not a parquet file at all")
    shutil.copy(FIXTURES / "mini_github_issue.traj.json", tmp_path / "c.traj.json")
    report = ImportReport()
    imported = list(import_paths([tmp_path], skip_bad=True, report=report))
    assert [t.source_format for t in imported] == ["swe-agent", "mini-swe-agent"]
    assert len(report.skipped) == 1 and "b.parquet" in report.skipped[0]
    with pytest.raises(RecordError, match=r"b\.parquet"):
        list(import_paths([tmp_path]))


def test_unreadable_step_parquet_is_a_record_error(tmp_path):
    build_step_dataset(import_paths([FIXTURES / "mini_github_issue.traj.json"]), tmp_path / "steps")
    (tmp_path / "steps" / "train.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(RecordError, match=r"train\.parquet"):
        list(iter_step_instances(tmp_path / "steps"))


def test_a_folder_without_trajectory_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a trajectory")
    with pytest.raises(RecordError, match="no trajectory files"):
        list(import_paths([tmp_path]))
