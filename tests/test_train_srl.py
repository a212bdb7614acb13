"""SRL end to end on CPU: real step instances, the tiny model, TRL's GRPOTrainer with dynamic sampling.

These tests check the mechanics (metrics, checkpoints, resume, curves, CLI); tests/test_learning.py
checks that the policy improves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _config(steps_dir, model, *extra):
    from swe_srl.train.config import load_config

    base = [
        f"data.path={steps_dir}",
        f"model.path={model}",
        "data.max_train_rows=8",
        "data.max_eval_rows=4",
        "srl.per_device_train_batch_size=4",
        "srl.num_generations=2",
        "srl.max_completion_length=8",
        "srl.dynamic_sampling_max_rounds=2",
        "srl.eval_steps=0",
        "eval.max_new_tokens=8",
    ]
    return load_config(CONFIGS / "srl_tiny_cpu.yaml", [*base, *extra])


@pytest.mark.slow
def test_srl_run_logs_evaluates_checkpoints_and_resumes(steps_dir, tiny_dir, tmp_path):
    from swe_srl.train.metrics import read_jsonl
    from swe_srl.train.srl import run_srl

    run = tmp_path / "run"
    first = run_srl(_config(steps_dir, tiny_dir, "srl.max_steps=1", "srl.save_steps=1"), run)
    assert (run / "checkpoint-1").is_dir()
    assert first.eval_history and first.eval_history[-1]["count"] == 4

    second = run_srl(_config(steps_dir, tiny_dir, "srl.max_steps=2", "srl.save_steps=1"), run, resume=True)
    state = json.loads((run / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    train = [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "train" and "loss" in r]
    assert [r["step"] for r in train] == [1, 2]  # the resumed run starts at step 2, not 1
    for record in train:
        assert 0.0 <= record["dynamic_sampling/kept_fraction"] <= 1.0
        assert record["dynamic_sampling/rounds"] >= 1
        assert "rewards/srl_reward/mean" in record
    evals = [r for r in read_jsonl(run / "metrics.jsonl") if r["kind"] == "eval"]
    assert {"mean_step_reward", "exact_match_rate", "format_error_rate"} <= set(evals[-1])
    assert -1.0 <= evals[-1]["mean_step_reward"] <= 1.0
    assert (run / "heldout.png").is_file() and (run / "train_reward.png").is_file()
    assert second.final_model == run / "final" and (run / "final" / "tokenizer.json").is_file()
    assert (run / "config.yaml").is_file()


@pytest.mark.slow
def test_srl_cli_with_lora_and_plain_grpo(steps_dir, tiny_dir, tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    run = tmp_path / "lora"
    args = ["train", "srl", "--data", str(steps_dir), "--model", str(tiny_dir), "--out", str(run)]
    args += ["--config", str(CONFIGS / "srl_tiny_cpu.yaml"), "--lora"]
    for item in (
        "data.max_train_rows=4",
        "data.max_eval_rows=2",
        "srl.per_device_train_batch_size=4",
        "srl.num_generations=2",
        "srl.max_completion_length=8",
        "srl.max_steps=1",
        "srl.eval_steps=0",
        "srl.dynamic_sampling=false",
        "eval.max_new_tokens=8",
        "lora.r=4",
    ):
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out reward" in result.output
    assert (run / "final" / "adapter_config.json").is_file()
    # The adapter folder loads as a model for the next stage (merged onto its base).
    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.config import ModelConfig

    model, _ = load_model_and_tokenizer(ModelConfig(), str(run / "final"))
    assert model.config.model_type == "qwen2"


def test_bad_override_names_the_key(steps_dir):
    from swe_srl.train.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"srl.num_generations"):
        load_config(CONFIGS / "srl_tiny_cpu.yaml", ["srl.num_generations=1"])
    with pytest.raises(ConfigError, match=r"srl_tiny_cpu.yaml.*srl.nonsense|srl.nonsense"):
        load_config(CONFIGS / "srl_tiny_cpu.yaml", ["srl.nonsense=3"])


# ---------------------------------------------------------------------------------------------
# vllm:PATH policy (GPU only): on this machine it must fail clearly, not deep inside an import.


def test_vllm_policy_without_vllm_or_gpu_fails_clearly(tiny_dir):
    import importlib.util

    import torch

    from swe_srl.policy.registry import make_policy
    from swe_srl.policy.vllm import VllmUnavailableError

    if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available():
        pytest.skip("vLLM and a GPU are present: the clear-error path does not apply")
    with pytest.raises(VllmUnavailableError, match=r"vLLM and a CUDA GPU|needs a CUDA GPU"):
        make_policy(f"vllm:{tiny_dir}")


def test_vllm_policy_resolves_adapter_folders_to_their_base(tmp_path, tiny_dir):
    from swe_srl.policy.vllm import resolve_path
    from swe_srl.records import SweSrlError

    assert resolve_path(str(tiny_dir)).adapter is None
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": str(tiny_dir), "r": 4})
    )
    location = resolve_path(str(adapter))
    assert (location.base, location.adapter, location.adapter_rank) == (str(tiny_dir), str(adapter), 4)
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 4}))
    with pytest.raises(SweSrlError, match="base_model_name_or_path"):
        resolve_path(str(adapter))
