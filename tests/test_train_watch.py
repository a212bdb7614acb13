"""Training a person can watch and interrupt: lines, progress, TensorBoard, run folders, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_log_line_is_compact_rounded_and_counts_steps():
    from swe_srl.train.progress import format_log_line

    logs = {
        "loss": 0.123456789,
        "grad_norm": 1.9701234,
        "learning_rate": 4.99999e-07,
        "reward": -0.3333333,
        "dynamic_sampling/kept_fraction": 0.75,
        "epoch": 0.041666,
        "completions/min_length": 3.0,  # kept in metrics.jsonl, not on the line
    }
    line = format_log_line(12, 300, logs)
    assert line == "step 12/300  epoch 0.04  loss 0.123  reward -0.333  kept 0.75  grad 1.97  lr 5.00e-07"
    assert "\n" not in line and "{" not in line
    done = format_log_line(300, 300, {"train_runtime": 125.4, "train_loss": 1.234567, "epoch": 1.0})
    assert done == "finished 300 steps in 2m05s, mean train loss 1.23"


def test_run_folder_with_an_earlier_run_is_refused_without_resume(tmp_path):
    from swe_srl.train.common import RunFolderError, check_run_folder

    run = tmp_path / "run"
    assert check_run_folder(run, resume=False).root == run  # nothing there yet
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"kind": "train", "step": 1}\n')
    with pytest.raises(RunFolderError, match="--resume"):
        check_run_folder(run, resume=False)
    with pytest.raises(RunFolderError, match=r"no config\.yaml"):
        check_run_folder(tmp_path / "empty", resume=True)


def test_missing_model_folder_is_refused_before_the_run_folder_is_written(tmp_path, steps_dir, tiny_dir):
    """A typo in --model is one line naming the option, and the corrected command is not refused."""
    from typer.testing import CliRunner

    from swe_srl.cli import app

    run = tmp_path / "run"
    base = [
        "train",
        "sft",
        "--data",
        str(steps_dir),
        "--out",
        str(run),
        "--config",
        str(CONFIGS / "sft_tiny_cpu.yaml"),
    ]
    result = CliRunner().invoke(app, [*base, "--model", str(tmp_path / "no-such-model")])
    assert result.exit_code == 2, result.output
    assert (
        "--model" in result.output
        and "no-such-model" in result.output
        and "no such model folder" in result.output
    )
    assert not run.exists()  # nothing written: the corrected command starts a new run
    fixed = CliRunner().invoke(app, [*base, "--model", str(tiny_dir), "--set", "sft.max_steps=1"])
    assert fixed.exit_code == 0, fixed.output
    assert (run / "final").is_dir()


def test_resumed_run_drops_the_records_after_its_checkpoint(tmp_path):
    """A run killed after step 5 with its last checkpoint at 4 logs steps 5.. again when resumed."""
    from swe_srl.jsonl import append_record
    from swe_srl.train.metrics import read_jsonl, truncate_after

    path = tmp_path / "metrics.jsonl"
    for step in range(1, 6):
        append_record(path, {"kind": "train", "step": step})
    append_record(path, {"kind": "eval", "step": 5})
    assert truncate_after(path, 4) == 2
    assert [r["step"] for r in read_jsonl(path)] == [1, 2, 3, 4]


def _sft_args(steps_dir: Path, tiny_dir: Path, run: Path, *extra: str) -> list[str]:
    args = ["train", "sft", "--data", str(steps_dir), "--model", str(tiny_dir), "--out", str(run)]
    args += ["--config", str(CONFIGS / "sft_tiny_cpu.yaml")]
    for item in ("data.max_eval_rows=2", "eval.max_new_tokens=2", *extra):
        args += ["--set", item]
    return args


@pytest.mark.slow
def test_cli_training_prints_lines_logs_tensorboard_and_refuses_a_second_run(steps_dir, tiny_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    command = [sys.executable, "-m", "swe_srl.cli", *_sft_args(steps_dir, tiny_dir, run, "sft.max_steps=3")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    steps = [line for line in lines if line.startswith("step ")]
    assert [s.split()[1] for s in steps[:3]] == ["1/3", "2/3", "3/3"]
    assert not [line for line in lines if line.startswith("{")]  # no raw dicts
    assert any("training" in line and "3/3" in line and "ETA" in line for line in lines)  # the progress bar
    assert any(line.startswith("held-out at step 3:") for line in lines)
    assert any(
        line.startswith("plan: 8 prompts / 8 rows per step") and "checkpoint disk" in line for line in lines
    )
    assert "Warning" not in result.stderr and "deprecated" not in result.stderr
    final = result.stdout.strip().splitlines()[-1]
    assert final.startswith("train loss ") and len(final.split()[2]) <= 6  # rounded: "6.901"

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2, 3]
    assert [e.step for e in events.Scalars("heldout/mean_step_reward")] == [3]

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already holds a training run" in again.stderr
    assert "--resume" in again.stderr and "Traceback" not in again.stderr


def _start(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(run: Path, child: subprocess.Popen, step: int, timeout: float = 300) -> None:
    from swe_srl.train.metrics import read_jsonl

    deadline = time.monotonic() + timeout
    while not [r for r in read_jsonl(run / "metrics.jsonl") if r.get("step", 0) >= step and "loss" in r]:
        assert child.poll() is None, child.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "training did not reach the step"
        time.sleep(0.2)


@pytest.mark.slow
def test_first_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(steps_dir, tiny_dir, tmp_path):
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "swe_srl.cli",
        *_sft_args(steps_dir, tiny_dir, run, "sft.max_steps=2000"),
    ]
    child = _start(command)
    try:
        _wait_for_step(run, child, 2)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, err[-3000:]
    assert "stopping after this step" in err and "resume with:" in err and "--resume" in err
    assert "Traceback" not in err
    checkpoints = sorted(int(p.name.split("-")[1]) for p in run.glob("checkpoint-*"))
    assert len(checkpoints) == 1 and checkpoints[0] >= 2  # saved where it stopped, no save_steps needed
    assert (run / f"checkpoint-{checkpoints[0]}" / "trainer_state.json").is_file()
    assert not (run / "final").exists()  # not finished: no final model
    # The command it printed resumes the run.
    resumed = subprocess.run(
        [*command[:-2], "--set", f"sft.max_steps={checkpoints[0] + 1}", "--resume"],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run / "final" / "config.json").is_file()


@pytest.mark.slow
def test_second_ctrl_c_exits_at_once(steps_dir, tiny_dir, tmp_path):
    """Each step ends with a held-out evaluation of several seconds, so the first press leaves the run
    busy finishing its step; the second press must not wait for it (no checkpoint gets written)."""
    run = tmp_path / "run"
    slow_steps = ("sft.max_steps=2000", "sft.eval_steps=1", "data.max_eval_rows=48", "eval.batch_size=4")
    args = [*_sft_args(steps_dir, tiny_dir, run, *slow_steps), "--set", "eval.max_new_tokens=384"]
    child = _start([sys.executable, "-m", "swe_srl.cli", *args])
    try:
        _wait_for_step(run, child, 1)
        child.send_signal(signal.SIGINT)
        time.sleep(1.5)  # a second press, after the first one's grace for duplicates
        started = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        child.kill()
    assert "stopping after this step" in err
    assert child.returncode in (130, -signal.SIGINT) and elapsed < 10, (child.returncode, elapsed)
    assert not list(run.glob("checkpoint-*"))  # it did not wait to finish the step and save


def test_wandb_reports_when_configured_and_tensorboard_is_written_by_swe_srl(monkeypatch):
    from swe_srl.train.common import report_integrations

    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    assert report_integrations(None) == []
    monkeypatch.setenv("WANDB_PROJECT", "srl")
    assert report_integrations(None) == ["wandb"]
    assert report_integrations(["tensorboard", "wandb"]) == [
        "wandb"
    ]  # RUN/tensorboard is written once, by swe-srl
    assert report_integrations("none") == []
