"""The run browser's rows for real ``swe-srl eval`` runs: the policy that ran, or why a task failed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.tui.loading import open_source
from swe_srl.tui.render import ENTRY_COLUMNS, entry_cells

DETAIL = ENTRY_COLUMNS.index("model / reason")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    for policy in ("gold", "noop"):
        command = [sys.executable, "-m", "swe_srl.cli", "eval", "--tasks", "sample", "--policy", policy]
        subprocess.run(
            [*command, "--out", str(root / policy), "--no-progress"], check=True, capture_output=True
        )
    return root


def test_run_rows_say_why_a_task_failed(runs):
    result = json.loads((runs / "noop" / "results.jsonl").read_text().splitlines()[0])
    assert result["status"] != "resolved" and result["reason"]
    (entry,) = open_source(runs / "noop").entries
    assert entry_cells(entry)[DETAIL] == result["reason"]


def test_run_rows_name_the_policy_that_ran(runs):
    (entry,) = open_source(runs / "gold").entries
    assert entry.status == "resolved"
    assert entry_cells(entry)[DETAIL] == "gold"
