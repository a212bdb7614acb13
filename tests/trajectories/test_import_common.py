"""Helpers every importer shares: the default id of a record read from a file."""

from __future__ import annotations

import pytest

from swe_srl.trajectories.importers.common import Where


@pytest.mark.parametrize(
    ("source", "record", "expected"),
    [
        ("runs/pandas-dev__pandas.95280573.pr_53856.traj.json", "", "pandas-dev__pandas.95280573.pr_53856"),
        ("trajs/pydicom__pydicom-1458.traj", "", "pydicom__pydicom-1458"),
        ("data/train-00000-of-00002.parquet", "row 3", "train-00000-of-00002-row3"),
        ("rows.jsonl", "line 2", "rows-line2"),
        ("a.b.json", "", "a.b"),
        (".traj", "", "trajectory"),
    ],
)
def test_a_file_named_after_a_dotted_id_keeps_the_whole_id(source, record, expected):
    """SWE-smith ids hold dots; only the file's own suffixes are cut from its name."""
    assert Where(source, record).default_id == expected
