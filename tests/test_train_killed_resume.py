"""A training run killed with SIGKILL mid-way resumes from its last checkpoint."""

from __future__ import annotations

import json
import os
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
        deadline = time.monotonic() + 240
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

    target = last + 2
    result = subprocess.run(
        [*_train_args(steps_dir, tiny_dir, run, target), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    state = json.loads((run / f"checkpoint-{target}" / "trainer_state.json").read_text())
    assert state["global_step"] == target
    steps = [r["step"] for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    # The resumed run logs the steps after the checkpoint; nothing up to the checkpoint is redone.
    assert steps[-2:] == [last + 1, last + 2]
    assert all(steps.count(step) == 1 for step in range(1, last + 1))
    assert (run / "final" / "config.json").is_file()
