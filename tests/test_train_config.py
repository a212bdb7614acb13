"""Training configuration: swe-srl's own options, TRL's dataclass fields passed through and checked.

The TRL dataclasses are the real ones (``trl.SFTConfig``, ``trl.GRPOConfig``); a key is valid when
the dataclass has it, and its value is checked against the field's type hint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.train.config import ConfigError, TrainConfig, load_config, save_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_every_shipped_config_loads():
    names = sorted(p.name for p in CONFIGS.glob("*.yaml"))
    assert {
        "srl_paper_qwen7b.yaml",
        "srl_tiny_cpu.yaml",
        "sft_tiny_cpu.yaml",
        "rlvr_paper_qwen7b.yaml",
    } <= set(names)
    for path in CONFIGS.glob("*.yaml"):
        assert isinstance(load_config(path), TrainConfig)


def test_paper_config_holds_the_paper_settings():
    srl = load_config(CONFIGS / "srl_paper_qwen7b.yaml").srl
    trl = srl.trl
    assert (trl["num_generations"], trl["temperature"], trl["learning_rate"], trl["beta"]) == (
        8,
        1.0,
        5e-7,
        0.0,
    )
    assert srl.dynamic_sampling and trl["use_vllm"]
    # 8 GPUs x per-device rows x accumulation = 4096 rollouts = 512 prompts x G
    rows = 8 * trl["per_device_train_batch_size"] * trl["gradient_accumulation_steps"]
    assert rows // trl["num_generations"] == 512


def test_paper_configs_state_the_importance_sampling_choice():
    """TRL's vLLM correction is on by default; the paper configs say what they do, in their own text."""
    for name in ("srl_paper_qwen7b.yaml", "rlvr_paper_qwen7b.yaml"):
        text = (CONFIGS / name).read_text()
        assert "vllm_importance_sampling_correction:" in text, name
        section = "srl" if name.startswith("srl") else "rlvr"
        assert (
            load_config(CONFIGS / name).section(section).trl["vllm_importance_sampling_correction"] is False
        )


def test_any_trl_field_passes_through_from_yaml_and_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "srl:\n  vllm_importance_sampling_mode: token_truncate\n  vllm_importance_sampling_cap: 2.5\n"
        "  mask_truncated_completions: true\n  vllm_server_host: 10.0.0.7\n",
        encoding="utf-8",
    )
    config = load_config(
        path,
        [
            "srl.vllm_tensor_parallel_size=2",
            "srl.vllm_enable_sleep_mode=true",
            "srl.vllm_max_model_length=16384",
            "srl.generation_batch_size=64",
            "srl.lr_scheduler_type=cosine",
            "sft.neftune_noise_alpha=5",
            "rlvr.vllm_server_port=8001",
        ],
    )
    trl = config.srl.trl
    assert (
        trl["vllm_importance_sampling_mode"] == "token_truncate"
        and trl["vllm_importance_sampling_cap"] == 2.5
    )
    assert trl["mask_truncated_completions"] is True and trl["vllm_server_host"] == "10.0.0.7"
    assert (trl["vllm_tensor_parallel_size"], trl["vllm_enable_sleep_mode"]) == (2, True)
    assert (trl["vllm_max_model_length"], trl["generation_batch_size"]) == (16384, 64)
    assert config.sft.trl["neftune_noise_alpha"] == 5 and config.rlvr.trl["vllm_server_port"] == 8001


def test_passed_fields_reach_the_real_trl_dataclass(tmp_path):
    from swe_srl.train.common import RunPaths, trainer_args

    config = load_config(
        CONFIGS / "srl_tiny_cpu.yaml",
        [
            "srl.vllm_importance_sampling_correction=false",
            "srl.mask_truncated_completions=true",
            "srl.top_k=7",
        ],
    )
    args = trainer_args("srl", config, RunPaths(tmp_path / "run"))
    assert type(args).__name__ == "GRPOConfig"
    assert args.vllm_importance_sampling_correction is False and args.mask_truncated_completions is True
    assert args.top_k == 7 and args.output_dir == str(tmp_path / "run")
    assert args.learning_rate == config.srl.trl["learning_rate"]


def test_own_options_are_kept_apart_from_trl_fields():
    config = load_config(None, ["srl.dynamic_sampling=false", "srl.learning_rate=1e-6"])
    assert config.srl.dynamic_sampling is False and "dynamic_sampling" not in config.srl.trl
    assert config.srl.trl["learning_rate"] == 1e-6


def test_saved_config_reloads_identically(tmp_path):
    config = load_config(
        CONFIGS / "srl_paper_qwen7b.yaml", ["srl.vllm_server_port=9000", "lora.enabled=true"]
    )
    save_config(config, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml").to_dict() == config.to_dict()


def test_overrides_parse_yaml_values_in_order():
    config = load_config(
        CONFIGS / "srl_tiny_cpu.yaml",
        [
            "srl.learning_rate=3e-3",
            "lora.enabled=true",
            "data.tools=[bash]",
            "srl.max_steps=5",
            "srl.max_steps=6",
        ],
    )
    assert config.srl.trl["learning_rate"] == 3e-3 and config.lora.enabled
    assert config.data.tools == ["bash"] and config.srl.trl["max_steps"] == 6


@pytest.mark.parametrize(
    ("yaml_text", "key", "message"),
    [
        ("srl:\n  learning_rate: fast\n", "srl.learning_rate", "expected float"),
        ("srl:\n  num_generation: 8\n", "srl.num_generation", "did you mean num_generations"),
        (
            "srl:\n  vllm_importance_sampling_corection: false\n",
            "srl.vllm_importance_sampling_corection",
            "trl.GRPOConfig",
        ),
        ("sft:\n  beta: 0.1\n", "sft.beta", "trl.SFTConfig"),
        ("srl:\n  lr_scheduler_type: cosinus\n", "srl.lr_scheduler_type", "cosine"),
        ("srl:\n  output_dir: /tmp/x\n", "srl.output_dir", "--out"),
        ("rlvr:\n  max_tool_calling_iterations: 3\n", "rlvr.max_tool_calling_iterations", "rlvr.max_turns"),
        ("model: 3\n", "model", "expected a mapping"),
        ("model:\n  gradient_checkpointing: true\n", "model.gradient_checkpointing", "unknown key"),
        ("data:\n  tools: bash\n", "data.tools", "expected a list"),
        ("sft:\n  mode: both\n", "sft.mode", "steps|trajectories"),
        ("srl:\n  max_steps: true\n", "srl.max_steps", "expected int"),
        ("srl:\n  num_generations: 1\n", "srl.num_generations", "at least 2"),
    ],
)
def test_invalid_yaml_names_file_and_key(tmp_path, yaml_text, key, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and repr(key) in str(err.value) and message in str(err.value)


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["srl.learning_rate"])


def test_a_value_trl_itself_rejects_is_a_config_error_naming_the_section(tmp_path):
    from swe_srl.train.common import RunPaths, trainer_args

    config = load_config(None, ["srl.per_device_train_batch_size=3", "srl.num_generations=2"])
    with pytest.raises(ConfigError, match=r"'srl'.*trl.GRPOConfig rejected.*divisible by num_generations"):
        trainer_args("srl", config, RunPaths(tmp_path))
