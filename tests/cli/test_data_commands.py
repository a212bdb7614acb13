"""``swe-srl trajectories`` and ``swe-srl steps`` as a person runs them: options checked before any
work or any file is written, and output that says which trajectory each line is about."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.cli.errors import EXIT_USAGE

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "trajectories" / "swesmith_pandas_53856.traj"
SHIPPED = REPO / "trajectories" / "sample"


def swe_srl(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "swe_srl.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.parametrize("command", [["trajectories", "import"], ["steps", "build"]])
def test_unknown_format_is_refused_before_anything_is_written(tmp_path, command):
    out = tmp_path / "out"
    result = swe_srl(*command, str(FIXTURE), "--out", str(out), "--format", "swe-agnet")
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert "swe-agnet" in result.stderr and "swe-agent-legacy" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("option", ["--window", "--obs-budget"])
def test_negative_context_sizes_other_than_all_are_refused(tmp_path, option):
    out = tmp_path / "out"
    result = swe_srl("steps", "build", str(FIXTURE), "--out", str(out), option, "-5")
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert option in result.stderr
    assert not out.exists()


def test_replay_check_refuses_a_folder_with_an_unknown_task_before_replaying(tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(SHIPPED, folder)
    shutil.copy(FIXTURE, folder / FIXTURE.name)
    report = tmp_path / "report.json"
    result = swe_srl("trajectories", "replay-check", str(folder), "--tasks", "sample", "--json", str(report))
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert "pandas-dev__pandas.95280573.pr_53856" in result.stderr
    assert "replay check" not in result.stdout  # nothing was replayed
    assert not report.exists()


def test_replay_check_quiet_lines_name_their_trajectory(tmp_path):
    report = tmp_path / "report.json"
    result = swe_srl(
        "trajectories", "replay-check", str(SHIPPED), "--tasks", "sample", "--quiet", "--no-grade",
        "--json", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [entry["instance_id"] for entry in json.loads(report.read_text())]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == len(ids) >= 1
    for instance_id, line in zip(ids, lines, strict=True):
        assert line.startswith(f"{instance_id}: "), line
