"""`swe-srl replay` on real trajectory files: --print for every fixture, and the app driven through tmux."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.cli import app

REPO = Path(__file__).resolve().parent.parent
EXPERT_FILE = REPO / "trajectories" / "sample" / "swe-srl__durata-1.traj.json"
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
    assert "mean step SRL reward of A (expert) against B (expert): 1.000 over 11 of 11 steps" in result.output


@pytest.fixture(scope="module")
def eval_root(tmp_path_factory) -> Path:
    """A real ``swe-srl eval`` run of the gold policy on the sample suite, in a project folder whose
    ``trajectories/`` holds the expert trajectory of its task (the layout of a demo), plus one task
    the run recorded as an infrastructure error (no trajectory)."""
    root = tmp_path_factory.mktemp("project")
    (root / "trajectories").mkdir()
    shutil.copy(EXPERT_FILE, root / "trajectories" / EXPERT_FILE.name)
    run = root / "runs" / "gold"
    command = [sys.executable, "-m", "swe_srl.cli", "eval", "--tasks", "sample", "--policy", "gold"]
    subprocess.run([*command, "--out", str(run), "--no-progress"], check=True, capture_output=True)
    error = {"instance_id": "swe-srl__lost-1", "status": "error", "resolved": False, "reason": "sandbox died"}
    with (run / "results.jsonl").open("a") as handle:
        handle.write(json.dumps({**error, "cause": "sandbox"}) + "\n")
    return root


def test_replay_labels_expert_and_student_in_either_order(eval_root: Path):
    """The README's usage (the run first, the expert with --compare) and the reverse label alike."""
    run_file = str(eval_root / "runs" / "gold" / "trajectories" / "swe-srl__durata-1.traj.json")
    expert = str(EXPERT_FILE)
    for first, second in ((run_file, expert), (expert, run_file)):
        result = CliRunner().invoke(
            app, ["replay", first, "--compare", second, "--print"], terminal_width=160
        )
        assert result.exit_code == 0, result.output
        assert "expert  vs  student · gold" in result.output
        assert "mean step SRL reward of student against expert" in result.output


def test_replay_folder_lists_every_file(fixtures_dir: Path):
    result = CliRunner().invoke(app, ["replay", str(fixtures_dir), "--print"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "folder · 3 entries" in result.output
    for instance in ("pandas-dev__pandas", "marshmallow-code__marshmallow-1867"):
        assert instance in result.output


def test_replay_run_folder_lists_tasks_with_status_and_reward(eval_root: Path):
    result = CliRunner().invoke(
        app, ["replay", str(eval_root / "runs" / "gold"), "--print"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert "resolved" in rows["swe-srl__durata-1"] and "yes" in rows["swe-srl__durata-1"]
    assert "error" in rows["swe-srl__lost-1"] and "sandbox died" in rows["swe-srl__lost-1"]
    reward = float(rows["swe-srl__durata-1"].split("│")[4])
    assert -1.0 <= reward <= 1.0  # gold's edits scored against the expert's steps


def test_replay_file_of_a_run_finds_its_expert(eval_root: Path):
    run_file = eval_root / "runs" / "gold" / "trajectories" / "swe-srl__durata-1.traj.json"
    result = CliRunner().invoke(app, ["replay", str(run_file), "--print"], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "expert  vs  student · gold" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "MISSING"], "no such file"),
        (["--expert", "MISSING"], "no such file or directory"),
    ],
)
def test_replay_bad_partner_is_one_line(eval_root: Path, tmp_path: Path, args, message):
    args = [a.replace("MISSING", str(tmp_path / "missing.traj")) for a in args]
    result = CliRunner().invoke(app, ["replay", str(EXPERT_FILE), *args, "--print"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


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


def _wait_gone(session: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0:
            return
        time.sleep(0.3)
    raise AssertionError("the app did not quit on q")


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
        _wait_gone(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup.sh")
def test_replay_run_browser_at_80_by_24_through_tmux(eval_root: Path):
    """``replay RUN_DIR`` in a small terminal: the browser, enter opens the task beside its expert."""
    session = f"swe-srl-browse-{time.monotonic_ns()}"
    command = f"{sys.executable} -m swe_srl.cli replay {eval_root / 'runs' / 'gold'}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True)
    try:
        screen = _wait_for(session, "swe-srl__lost-1")
        assert "resolved" in screen and "error" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        screen = _wait_for(session, "expert: 12 steps, student:")
        assert "str_replace" in screen  # the longest tool name stays whole at 80 columns
        subprocess.run(["tmux", "send-keys", "-t", session, "G"], check=True)
        _wait_for(session, "step 12 of 12")
        subprocess.run(["tmux", "send-keys", "-t", session, "/"], check=True)
        _wait_for(session, "search steps…")
        subprocess.run(["tmux", "send-keys", "-t", session, "durata", "Enter"], check=True)
        _wait_for(session, "/durata: match 8 of 8")  # searched from the current step, the last
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        _wait_for(session, "swe-srl__lost-1")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        _wait_gone(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
