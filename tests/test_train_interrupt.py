"""Ctrl-C during ``swe-srl train``: a checkpoint at the step it came in, a resume hint, a resume that works.

Real signals to a real ``swe-srl train sft`` process on the tiny model.
"""

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
    # No periodic checkpoint: the only one is the interrupt's.
    for item in (f"sft.max_steps={max_steps}", "sft.save_steps=0", "sft.logging_steps=1"):
        args += ["--set", item]
    return [*args, "--set", "data.max_eval_rows=2", "--set", "eval.max_new_tokens=2"]


def _logged_steps(run: Path) -> list[int]:
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        return []
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [r["step"] for r in rows if r.get("kind") == "train" and "loss" in r]


@pytest.mark.slow
def test_first_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_the_resume_finishes(
    tmp_path, steps_dir, tiny_dir
):
    run = tmp_path / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen(
        _train_args(steps_dir, tiny_dir, run, 400),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not _logged_steps(run):  # training is under way
            assert child.poll() is None, child.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no training step was logged"
            time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "interrupted: training interrupted at step" in stderr
    assert "--resume" in stderr.splitlines()[-1] and stderr.splitlines()[-1].startswith(
        "to resume: swe-srl train"
    )
    [checkpoint] = run.glob("checkpoint-*")
    stopped = int(checkpoint.name.split("-")[1])
    assert 1 <= stopped < 400 and f"checkpoint saved in {run}/checkpoint-{stopped}" in stderr
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == stopped
    assert not (run / "final").exists()  # an interrupted run is not a finished one

    resumed = subprocess.run(
        [*_train_args(steps_dir, tiny_dir, run, stopped + 1), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _logged_steps(run)[-1] == stopped + 1 and (run / "final" / "config.json").is_file()
