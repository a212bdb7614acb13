"""``swe-srl trajectories`` and ``swe-srl steps`` as a person runs them: options checked before any
work or any file is written, and output that says which trajectory each line is about."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.cli.errors import EXIT_USAGE

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "trajectories" / "swesmith_pandas_53856.traj"


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
