"""The ``swe-srl`` command line as a person meets it: the real console script in a subprocess, its
exit statuses, its one-line errors (never a traceback, never a hub for a local path), its help
screens and its tables when piped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swe_srl import __version__
from swe_srl.cli.errors import EXIT_USAGE

LONG_ID = "swe-srl__semverkit-prerelease-opt-in-ignored"  # long enough to fold in an 80-column table


def swe_srl(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the CLI as a user does; stdout and stderr are pipes (not a terminal)."""
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "swe_srl.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=300,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_version():
    result = swe_srl("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"swe-srl {__version__}"


@pytest.mark.parametrize(
    "args",
    [("steps", "build", "data/traj", "--out", "out"), ("trajectories", "stats", "data/traj")],
    ids=["steps-build", "trajectories-stats"],
)
def test_missing_local_folder_is_one_line_and_never_a_hub(tmp_path, args):
    """``data/traj`` has the shape of a hub dataset name; a missing local folder is still just that.
    (The hub is reachable only as hf:OWNER/NAME; trying it here would take 25 s of retries.)"""
    started = time.monotonic()
    result = swe_srl(*args, cwd=tmp_path, env={"HF_HUB_OFFLINE": "0"})
    assert_one_line_error(result, "file data/traj: no such file or directory", "hf:data/traj")
    assert "Hub" not in result.stderr and time.monotonic() - started < 20


def test_unknown_sandbox_is_a_usage_error():
    result = swe_srl("episode", "--sandbox", "dockr")
    assert result.returncode == EXIT_USAGE and "Traceback" not in result.stderr
    message = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())  # the usage panel wraps lines
    assert "Invalid value for '--sandbox'" in message and "'dockr' is not one of 'local', 'docker'" in message


def test_missing_run_folder_is_one_line(tmp_path):
    assert_one_line_error(swe_srl("report", str(tmp_path / "nope")), "no such run directory")
    assert_one_line_error(swe_srl("replay", str(tmp_path / "nope.traj")), "no such file or directory")


def test_malformed_input_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "bad.traj.json"
    bad.write_text('{"instance_id": "x", "steps": [{"action": 5}]}')
    assert_one_line_error(swe_srl("trajectories", "stats", str(bad)), str(bad))


def test_debug_variable_shows_the_traceback(tmp_path):
    result = swe_srl("report", str(tmp_path / "nope"), env={"SWE_SRL_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr and "RecordError" in result.stderr


@pytest.mark.parametrize(
    "command", [(), ("train", "sft"), ("eval",), ("replay",), ("steps", "build"), ("report",)]
)
def test_help_shows_no_type_beside_flags(command):
    result = swe_srl(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--help" in result.stdout and "<bool>" not in result.stdout


def test_piped_tables_keep_ids_whole(tmp_path):
    """Output to a pipe (a log, a pager) is as wide as a table needs: no id folded mid-word."""
    run = tmp_path / "run"
    result = swe_srl(
        "eval", "--tasks", "bundled", "--policy", "noop", "--out", str(run), "--instances", LONG_ID
    )
    assert result.returncode == 0, result.stderr
    assert LONG_ID in result.stdout
    report = swe_srl("report", str(run), "--no-html")
    assert report.returncode == 0, report.stderr
    assert len(re.findall(re.escape(LONG_ID), report.stdout)) == 1  # the per-task row, whole
    replay = swe_srl("replay", str(run), "--print")
    assert replay.returncode == 0, replay.stderr
    assert LONG_ID in replay.stdout


def test_hub_dataset_named_explicitly_fails_in_one_line_when_offline(tmp_path):
    result = swe_srl(
        "trajectories", "stats", "hf:nobody/no-such-dataset", cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"}
    )
    assert_one_line_error(result, "file hf:nobody/no-such-dataset: cannot load the dataset")


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """``swe-srl tasks list pypi | head -1``: the reader's exit is not an error of the command."""
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the listing: the writer must wait
    command = [sys.executable, "-m", "swe_srl.cli", "tasks", "list", "pypi"]
    child = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.readline()  # the first row, then the reader goes away
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr.decode()
    assert stderr == b""
