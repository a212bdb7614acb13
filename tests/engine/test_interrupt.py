"""Ctrl-C on the engine's commands, with real SIGINTs sent to a real ``swe-srl`` process group (as a
terminal does): the first drains and records what finished, the second cancels at once, both reap
every sandbox and say how to go on."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from engine_helpers import CLI, leftovers, results, sleeper_policy

from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.loop import EngineSettings
from swe_srl.eval.runner import EvalConfig, run_eval
from swe_srl.tasks.loader import read_tasks

pytestmark = pytest.mark.slow
ALL = [t.instance_id for t in read_tasks("bundled").tasks]
SIX = ",".join(ALL[:6])


def _start(args: list[str], tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "COLUMNS": "200"}
    return subprocess.Popen(
        [CLI, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(condition, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _ctrl_c(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as a terminal sends it


def test_first_ctrl_c_finishes_running_tasks_records_them_and_says_how_to_resume(tmp_path, tmpdir_private):
    out = tmp_path / "run"
    # The whole suite, so that the run cannot finish every task before the signal lands even when
    # this test's process is starved of CPU for seconds on a loaded machine.
    args = ["eval", "--tasks", "bundled", "--policy", "gold", "--workers", "2", "--out",
            str(out), "--no-progress"]  # fmt: skip
    proc = _start(args, tmpdir_private)
    _wait_for(
        lambda: (out / "results.jsonl").exists() and (out / "results.jsonl").read_text().count("\n") >= 1
    )
    _ctrl_c(proc)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    finished = len(results(out))
    assert 1 <= finished < len(ALL)
    assert "interrupted: no new tasks" in stderr and "every sandbox was reaped" in stderr
    assert f"to resume, run the same command again: swe-srl {' '.join(args)}" in stderr
    assert "interrupted" in (out / "report.json").read_text()
    assert leftovers(tmpdir_private, [proc.pid]) == []
    resumed = _start(args, tmpdir_private)
    resumed.communicate(timeout=300)
    assert resumed.returncode == 0
    counts = collections.Counter(r["instance_id"] for r in results(out))
    assert sorted(counts) == sorted(ALL) and set(counts.values()) == {1}


def test_second_ctrl_c_cancels_at_once_and_still_reaps(tmp_path, tmpdir_private):
    policy = sleeper_policy(tmp_path)  # every task's first command runs for ten minutes
    args = ["eval", "--tasks", "bundled", "--instances", SIX, "--policy", policy, "--workers", "2",
            "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    proc = _start(args, tmpdir_private)
    _wait_for(lambda: len(list((tmpdir_private / "swe-srl-ws").glob("*"))) >= 2)  # two sandboxes up
    time.sleep(1)  # their commands are running
    _ctrl_c(proc)
    time.sleep(0.5)
    began = time.monotonic()
    _ctrl_c(proc)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - began < 30  # not the ten minutes, nor the drain's minute
    assert "cancelling 2 running task(s)" in stderr and "0 task(s) finished" in stderr
    recorded = tmp_path / "run" / "results.jsonl"
    assert not recorded.exists() or not recorded.read_text()  # cancelled tasks are not results
    assert leftovers(tmpdir_private, [proc.pid]) == []


def test_the_drain_after_the_first_ctrl_c_is_bounded(tmp_path, tmpdir_private):
    engine = EngineSettings(drain_seconds=2)
    policy = sleeper_policy(tmp_path)
    config = EvalConfig(tasks="sample", policy=policy, out=tmp_path / "run", engine=engine)
    ready = threading.Thread(target=lambda: _wait_for(lambda: any((tmpdir_private / "swe-srl-ws").glob("*"))))
    ready.start()
    timer = threading.Thread(target=lambda: (ready.join(), time.sleep(1), signal.raise_signal(signal.SIGINT)))
    timer.start()
    began = time.monotonic()
    with pytest.raises(RunInterrupted) as stopped:
        run_eval(config)  # in the main thread: the engine handles the real SIGINT
    timer.join()
    assert time.monotonic() - began < 30
    assert (stopped.value.finished, stopped.value.not_run) == (0, 1)
    assert leftovers(tmpdir_private) == []


def test_rollout_and_validate_stop_on_ctrl_c_too(tmp_path, tmpdir_private):
    rollout = [
        "rollout",
        "--policy",
        "noop",
        "--tasks",
        "bundled",
        "--instances",
        SIX,
        "--out",
        str(tmp_path / "r"),
    ]
    proc = _start(rollout, tmpdir_private)
    _wait_for(lambda: (tmp_path / "r" / "rollout.log").exists())
    _ctrl_c(proc)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "to resume, run the same command again: swe-srl rollout" in stderr
    validate = _start(["tasks", "validate", "bundled", "--workers", "2"], tmpdir_private)
    _wait_for(lambda: len(list((tmpdir_private / "swe-srl-ws").glob("*"))) >= 1)
    _ctrl_c(validate)
    time.sleep(0.3)
    _ctrl_c(validate)
    stdout, stderr = validate.communicate(timeout=60)
    assert validate.returncode == 130 and "tasks valid" not in stdout
    assert leftovers(tmpdir_private, [proc.pid, validate.pid]) == []


@pytest.mark.docker
def test_images_build_stops_on_ctrl_c(tmpdir_private):
    proc = _start(["images", "build", "bundled", "--force"], tmpdir_private)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # one image built: the next one is under way
    assert "\tbuilt" in first
    _ctrl_c(proc)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "interrupted:" in stderr and "to run it all again: swe-srl images build bundled --force" in stderr
    assert len((first + stdout).splitlines()) < len(read_tasks("bundled").tasks)
