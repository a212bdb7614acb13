"""`swe-srl replay` on real trajectory files: --print for every fixture, and the app driven through tmux."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.cli import app

FIXTURE_IDS = {
    "swesmith_pandas_53856.traj": "pandas-dev__pandas",
    "sweagent_marshmallow_fc_replace.traj": "marshmallow-code__marshmallow-1867",
    "mini_github_issue.traj.json": "Step 1/",
}


@pytest.mark.parametrize("name", sorted(FIXTURE_IDS))
def test_replay_print_opens_every_fixture_format(fixtures_dir: Path, name: str):
    result = CliRunner().invoke(app, ["replay", str(fixtures_dir / name), "--print"], terminal_width=140)
    assert result.exit_code == 0, result.output
    assert FIXTURE_IDS[name] in result.output
    assert "observation" in result.output and "final patch" in result.output


def test_replay_print_compare_scores_steps(fixtures_dir: Path):
    path = str(fixtures_dir / "sweagent_marshmallow_fc_replace.traj")
    result = CliRunner().invoke(app, ["replay", path, "--compare", path, "--print"], terminal_width=140)
    assert result.exit_code == 0, result.output
    assert "mean step similarity: 1.000" in result.output


def test_replay_missing_file_names_it(tmp_path: Path):
    missing = tmp_path / "nope.traj"
    result = CliRunner().invoke(app, ["replay", str(missing), "--print"])
    assert result.exit_code == 2
    assert str(missing) in result.output and "no such file" in result.output


def test_replay_malformed_file_names_file_and_field(tmp_path: Path):
    bad = tmp_path / "bad.traj"
    bad.write_text('{"trajectory": [{"action": 5}], "history": []}')
    result = CliRunner().invoke(app, ["replay", str(bad), "--print"])
    assert result.exit_code == 2
    assert str(bad) in result.output


def _capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
    ).stdout


def _wait_for(session: str, needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if needle in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never appeared on screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup.sh")
def test_replay_driven_through_tmux_like_a_person(fixtures_dir: Path):
    session = f"swe-srl-replay-{time.monotonic_ns()}"
    fixture = fixtures_dir / "sweagent_marshmallow_fc_replace.traj"
    command = f"{sys.executable} -m swe_srl.cli replay {fixture}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "45", command], check=True)
    try:
        _wait_for(session, "Step 1/11")
        subprocess.run(["tmux", "send-keys", "-t", session, "j"], check=True)
        _wait_for(session, "Step 2/11")
        subprocess.run(["tmux", "send-keys", "-t", session, "i"], check=True)
        _wait_for(session, "Hi there!")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True)
            alive = probe.returncode == 0
            if not alive:
                break
            time.sleep(0.3)
        assert not alive, "the app did not quit on q"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
