"""Training with two processes on CPU (gloo), launched as on a GPU node: DDP and FSDP2.

Each test runs the real CLI under ``accelerate launch`` (tests/train_launch.py) with the tiny model
for a few steps, then resumes the run from its checkpoint. What must hold under a real launch: one
writer per file (one log record per step, the closing line printed once), the process group up
before the model loads, held-out evaluation with every rank generating a share (no rank waits on
another), checkpoints, resume, and a final model that loads, including FSDP's sharded checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_launch import launch

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

pytestmark = pytest.mark.slow


def _train(method: str, steps_dir: Path, model: Path, run: Path, *settings: str) -> list[str]:
    args = ["train", method, "--data", str(steps_dir), "--model", str(model), "--out", str(run)]
    args += ["--config", str(CONFIGS / f"{method}_tiny_cpu.yaml")]
    for item in ("data.max_eval_rows=5", "eval.max_new_tokens=4", "eval.batch_size=2", *settings):
        args += ["--set", item]
    return args


def _ok(result) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def _records(run: Path, kind: str) -> list[dict]:
    from swe_srl.train.metrics import read_jsonl

    return [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == kind]


def _train_steps(run: Path) -> list[int]:
    return [r["step"] for r in _records(run, "train") if "loss" in r]


def _loads(folder: Path) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.model_type == "qwen2"


@pytest.mark.parametrize("fsdp", [False, True], ids=["ddp", "fsdp"])
def test_sft_two_processes_evaluates_checkpoints_resumes_and_saves(steps_dir, tiny_dir, tmp_path, fsdp):
    run = tmp_path / "run"
    first = _train("sft", steps_dir, tiny_dir, run, "sft.max_steps=2", "sft.save_steps=1")
    output = _ok(launch(first, tmp_path, fsdp=fsdp))
    launch_record = json.loads((run / "launch.json").read_text())
    assert launch_record["world_size"] == 2 and launch_record["process_group_before_model"] is True
    assert launch_record["distributed_type"] == ("FSDP" if fsdp else "MULTI_CPU")
    if fsdp:  # the shipped fsdp.yaml keeps sharded checkpoints: fast to save, no full model inside
        assert launch_record["fsdp_state_dict_type"] == "SHARDED_STATE_DICT"
        assert (run / "checkpoint-2" / "pytorch_model_fsdp_0").is_dir()
    assert _train_steps(run) == [1, 2]  # one writer: one record per step
    evals = _records(run, "eval")
    assert [(e["step"], e["count"]) for e in evals] == [(2, 5)]  # all 5 rows, shared by the two ranks
    closing = [line for line in output.splitlines() if line.startswith("train loss ")]
    assert len(closing) == 1, output[-3000:]  # the closing line, from the main process only
    _loads(run / "final")

    resumed = _ok(
        launch(
            [*_train("sft", steps_dir, tiny_dir, run, "sft.max_steps=3", "sft.save_steps=1"), "--resume"],
            tmp_path,
            fsdp=fsdp,
        )
    )
    assert _train_steps(run) == [1, 2, 3]
    assert json.loads((run / "checkpoint-3" / "trainer_state.json").read_text())["global_step"] == 3
    assert [e["step"] for e in _records(run, "eval")] == [2, 3]
    assert any(line.startswith("train loss ") for line in resumed.splitlines())
    _loads(run / "final")


def test_srl_two_processes_with_dynamic_sampling_resumes(steps_dir, tiny_dir, tmp_path):
    run = tmp_path / "run"
    settings = (
        "srl.per_device_train_batch_size=4",
        "srl.num_generations=2",
        "srl.max_completion_length=6",
        "srl.dynamic_sampling=true",
        "srl.dynamic_sampling_max_rounds=2",
        "srl.eval_steps=1",
        "srl.save_steps=1",
    )
    _ok(launch(_train("srl", steps_dir, tiny_dir, run, "srl.max_steps=2", *settings), tmp_path))
    train = [r for r in _records(run, "train") if "loss" in r]
    assert [r["step"] for r in train] == [1, 2]
    assert all(1 <= r["dynamic_sampling/rounds"] <= 2 for r in train)
    assert [(e["step"], e["count"]) for e in _records(run, "eval")] == [(0, 5), (1, 5), (2, 5)]
    _ok(
        launch([*_train("srl", steps_dir, tiny_dir, run, "srl.max_steps=3", *settings), "--resume"], tmp_path)
    )
    assert _train_steps(run) == [1, 2, 3]
    assert [e["step"] for e in _records(run, "eval")] == [0, 1, 2, 3]
    _loads(run / "final")


def test_srl_two_processes_fsdp_without_dynamic_sampling(steps_dir, tiny_dir, tmp_path):
    run = tmp_path / "run"
    settings = (
        "srl.max_steps=2",
        "srl.per_device_train_batch_size=4",
        "srl.num_generations=2",
        "srl.max_completion_length=6",
        "srl.dynamic_sampling=false",
        "srl.eval_steps=0",
    )
    _ok(launch(_train("srl", steps_dir, tiny_dir, run, *settings), tmp_path, fsdp=True))
    assert json.loads((run / "launch.json").read_text())["distributed_type"] == "FSDP"
    train = [r for r in _records(run, "train") if "loss" in r]
    assert [r["step"] for r in train] == [1, 2]
    assert not any("dynamic_sampling/rounds" in r for r in train)
    assert [(e["step"], e["count"]) for e in _records(run, "eval")] == [(2, 5)]
    _loads(run / "final")
