"""A training run killed with SIGKILL mid-way resumes from its last complete checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _train_args(steps_dir: Path, tiny_dir: Path, run: Path, max_steps: int) -> list[str]:
    args = [sys.executable, "-m", "swe_srl.cli", "train", "sft", "--data", str(steps_dir)]
    args += ["--model", str(tiny_dir), "--out", str(run), "--config", str(CONFIGS / "sft_tiny_cpu.yaml")]
    for item in (f"sft.max_steps={max_steps}", "sft.save_steps=1", "sft.save_total_limit=50"):
        args += ["--set", item]
    args += ["--set", "data.max_eval_rows=2", "--set", "eval.max_new_tokens=2"]
    return args


def _checkpoints(run: Path) -> list[int]:
    return sorted(
        int(p.name.split("-")[1]) for p in run.glob("checkpoint-*") if p.name.split("-")[1].isdigit()
    )


@pytest.mark.slow
def test_sft_killed_mid_run_resumes_from_last_checkpoint(tmp_path, steps_dir, tiny_dir):
    from swe_srl.train.metrics import read_jsonl

    run = tmp_path / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen(
        _train_args(steps_dir, tiny_dir, run, 400),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Generous: in CI this runs on 2 shared cores beside the rest of the suite.
        deadline = time.monotonic() + 600
        while len(_checkpoints(run)) < 2:  # two finished checkpoints, so the run is truly mid-way
            assert child.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoints appeared"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not (run / "final").exists()
    # The newest checkpoint may be half written at the kill; the resume must pick a complete one.
    complete = [n for n in _checkpoints(run) if (run / f"checkpoint-{n}" / "trainer_state.json").is_file()]
    last = max(complete)
    torn = [n for n in _checkpoints(run) if n not in complete]

    target = last + 2
    result = subprocess.run(
        [*_train_args(steps_dir, tiny_dir, run, target), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    state = json.loads((run / f"checkpoint-{target}" / "trainer_state.json").read_text())
    assert state["global_step"] == target
    steps = [r["step"] for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    # The resumed run logs the steps after the checkpoint; nothing up to the checkpoint is redone.
    assert steps[-2:] == [last + 1, last + 2]
    assert all(steps.count(step) == 1 for step in range(1, last + 1))
    assert (run / "final" / "config.json").is_file()
    for number in torn:  # a checkpoint the kill cut short is kept aside, not resumed from or deleted
        assert (run / "incomplete" / f"checkpoint-{number}").is_dir()


def _checkpoint(folder: Path, *, state: str | None, weights: bool = True) -> Path:
    folder.mkdir(parents=True)
    if state is not None:
        (folder / "trainer_state.json").write_text(state, encoding="utf-8")
    if weights:
        (folder / "model.safetensors").write_bytes(b"weights")
    return folder


def test_resume_point_passes_over_incomplete_checkpoints(tmp_path):
    from swe_srl.train.checkpoints import ResumePoint, resume_point, set_aside

    run = tmp_path / "run"
    good = _checkpoint(run / "checkpoint-2", state='{"global_step": 2}')
    _checkpoint(run / "checkpoint-1", state='{"global_step": 1}')
    _checkpoint(run / "checkpoint-10", state=None)  # killed before the trainer state was written
    _checkpoint(run / "checkpoint-9", state='{"global_st')  # killed while writing it
    _checkpoint(run / "checkpoint-8", state='{"global_step": 8}', weights=False)
    point = resume_point(run)
    assert point.checkpoint == good and point.step == 2  # 2 < 8 < 9 < 10 numerically, not by name
    assert {i.folder.name: i.missing for i in point.incomplete} == {
        "checkpoint-8": "no model weights",
        "checkpoint-9": "trainer_state.json is not complete JSON",
        "checkpoint-10": "no trainer_state.json",
    }
    (run / "incomplete" / "checkpoint-10").mkdir(parents=True)  # set aside by an earlier resume
    moved = {item.folder.name: target for item, target in set_aside(run, point)}
    assert moved["checkpoint-10"] == run / "incomplete" / "checkpoint-10.1"
    assert (moved["checkpoint-9"] / "model.safetensors").read_bytes() == b"weights"  # kept, not deleted
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    assert resume_point(tmp_path / "empty") == ResumePoint(None)


@pytest.mark.slow
def test_resume_skips_checkpoint_killed_mid_write(tmp_path, steps_dir, tiny_dir):
    """The newest checkpoint lost its trainer state to a kill mid-save: resume uses the one before."""
    from typer.testing import CliRunner

    from swe_srl.cli import app
    from swe_srl.jsonl import append_record
    from swe_srl.train.metrics import read_jsonl

    run = tmp_path / "run"
    first = CliRunner().invoke(app, _train_args(steps_dir, tiny_dir, run, 2)[3:])
    assert first.exit_code == 0, first.output
    # What a SIGKILL during the third save leaves: weights written, no trainer state, no final
    # model, and a metrics line cut mid-write.
    shutil.copytree(run / "checkpoint-2", run / "checkpoint-3")
    (run / "checkpoint-3" / "trainer_state.json").unlink()
    shutil.rmtree(run / "final")
    records = [{**r, "before_kill": True} for r in read_jsonl(run / "metrics.jsonl") if r["step"] <= 2]
    (run / "metrics.jsonl").write_text("", encoding="utf-8")
    for record in records:
        append_record(run / "metrics.jsonl", record)
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "train", "step": 3, "lo')

    resumed = CliRunner().invoke(app, [*_train_args(steps_dir, tiny_dir, run, 4)[3:], "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "checkpoint-3 is incomplete (no trainer_state.json)" in resumed.output
    assert "continuing from checkpoint-2" in resumed.output
    assert (run / "incomplete" / "checkpoint-3" / "model.safetensors").is_file()  # set aside, kept
    for step in (3, 4):
        state = json.loads((run / f"checkpoint-{step}" / "trainer_state.json").read_text())
        assert state["global_step"] == step
    train = [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    assert [r["step"] for r in train] == [1, 2, 3, 4]
    # Steps 1-2 are the records of the first run (kept), not a fresh run from step 0.
    assert [r.get("before_kill", False) for r in train] == [True, True, False, False]
    assert (run / "final" / "config.json").is_file()
