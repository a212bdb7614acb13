"""``swe-srl train ... --dry-run``: batch, steps, tokens, GPU memory and checkpoint disk, before any GPU.

The paper configurations are planned for one 8 x 80 GB node against the architecture of
Qwen2.5-Coder-7B-Instruct (tests/fixtures/models: its config.json only; the plan never loads weights).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.train.config import load_config
from swe_srl.train.plan import Launch, ModelShape, check_plan, plan_run

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
QWEN_7B = ROOT / "tests" / "fixtures" / "models" / "qwen2.5-coder-7b-instruct"
ZERO3 = CONFIGS / "accelerate" / "deepspeed_zero3.yaml"
NODE_DISK_GB = 1000  # what a GPU node's local disk holds comfortably


def _paper(method: str, *overrides: str):
    return load_config(CONFIGS / f"{method}_paper_qwen7b.yaml", [f"model.path={QWEN_7B}", *overrides])


def test_model_shape_counts_qwen_7b_parameters():
    import json

    shape = ModelShape.from_config(json.loads((QWEN_7B / "config.json").read_text()))
    assert 7.5e9 < shape.params < 7.7e9  # published: 7.61 B


def test_launch_reads_the_shipped_accelerate_configs():
    assert Launch.from_accelerate_config(ZERO3) == Launch(8, "zero3")
    assert Launch.from_accelerate_config(CONFIGS / "accelerate" / "fsdp.yaml").sharding == "fsdp"
    assert Launch.from_accelerate_config(CONFIGS / "accelerate" / "multi_gpu.yaml").sharding == "none"


def test_paper_srl_plan_is_the_papers_batch_and_fits_a_node():
    config = _paper("srl")
    plan = plan_run("srl", config, Launch.from_accelerate_config(ZERO3))
    assert (plan.prompts_per_step, plan.rollouts_per_step) == (512, 4096)
    assert check_plan(plan, config) == []
    assert plan.memory_total_gb < 80 and plan.memory_gb["vllm_colocate"] == 24.0
    assert plan.disk_total_gb < NODE_DISK_GB  # model-only best snapshots + 2 resumable checkpoints


def test_paper_rlvr_plan_fits_80gb_and_eight_episodes_per_forward_would_not():
    config = _paper("rlvr")
    launch = Launch(7, "zero3")  # GPU 7 serves vLLM (server mode)
    plan = plan_run("rlvr", config, launch)
    assert check_plan(plan, config) == [] and plan.memory_total_gb < 80
    assert "vllm_colocate" not in plan.memory_gb
    crowded = _paper("rlvr", "rlvr.per_device_train_batch_size=8", "rlvr.gradient_accumulation_steps=2")
    problems = check_plan(plan_run("rlvr", crowded, launch), crowded)
    assert any("exceeds 80 GB" in p for p in problems)


def test_paper_sft_plan_fits_under_fsdp():
    config = _paper("sft")
    plan = plan_run("sft", config, Launch.from_accelerate_config(CONFIGS / "accelerate" / "fsdp.yaml"))
    assert check_plan(plan, config) == [] and plan.rollouts_per_step == 256


def test_old_paper_checkpoint_policy_would_not_fit_a_node_disk():
    """save_total_limit 30 full ZeRO-3 checkpoints (the earlier paper config) is terabytes."""
    config = _paper("srl", "srl.save_total_limit=30", "srl.save_steps=20")
    plan = plan_run("srl", config, Launch.from_accelerate_config(ZERO3))
    assert plan.checkpoint_gb["resumable checkpoints"] > 2500


def test_steps_per_epoch_come_from_the_training_rows(steps_dir):
    config = _paper("srl", f"data.path={steps_dir}", "srl.gradient_accumulation_steps=1")
    plan = plan_run("srl", config, Launch(2, "zero3"))
    rows = plan.train_rows
    assert rows and plan.rollouts_per_step == 8  # 2 processes x 4 rows
    assert plan.steps_per_epoch == -(-rows * 8 // 8)  # every prompt G=8 times per epoch
    assert plan.total_steps == plan.steps_per_epoch * 30


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["srl.num_generations=5"], "does not divide"),
        (["srl.per_device_train_batch_size=32"], "exceeds 80 GB"),
        (["srl.max_completion_length=20000"], "vllm_max_model_length"),
        (["lora.enabled=true", "lora.r=1024"], "lora.r"),
    ],
)
def test_impossible_settings_are_refused_with_the_key(overrides, message):
    config = _paper("srl", *overrides)
    problems = check_plan(plan_run("srl", config, Launch.from_accelerate_config(ZERO3)), config)
    assert any(message in p for p in problems), problems


def test_dry_run_cli_prints_the_plan_and_trains_nothing(tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    base = ["train", "srl", "--config", str(CONFIGS / "srl_paper_qwen7b.yaml"), "--model", str(QWEN_7B)]
    base += ["--out", str(tmp_path / "run"), "--dry-run", "--launch-config", str(ZERO3)]
    result = CliRunner().invoke(app, base)
    assert result.exit_code == 0, result.output
    for text in ("512 prompts, 4096 rows", "GPU memory per rank", "checkpoint disk", "tokens per step"):
        assert text in result.output
    assert not (tmp_path / "run").exists()
    refused = CliRunner().invoke(app, [*base, "--set", "srl.per_device_train_batch_size=32"])
    assert refused.exit_code == 2 and "exceeds 80 GB" in refused.output
