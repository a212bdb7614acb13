"""SFT on CPU (step instances and whole trajectories), and the training configuration it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.train.config import ConfigError, TrainConfig, load_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


# ---------------------------------------------------------------------------------------------
# Configuration


def test_every_shipped_config_loads():
    names = sorted(p.name for p in CONFIGS.glob("*.yaml"))
    assert {"srl_paper_qwen7b.yaml", "srl_tiny_cpu.yaml", "sft_tiny_cpu.yaml"} <= set(names)
    for path in CONFIGS.glob("*.yaml"):
        assert isinstance(load_config(path), TrainConfig)


def test_paper_config_holds_the_paper_settings():
    config = load_config(CONFIGS / "srl_paper_qwen7b.yaml")
    srl = config.srl
    assert (srl.num_generations, srl.temperature, srl.learning_rate, srl.beta) == (8, 1.0, 5e-7, 0.0)
    assert srl.dynamic_sampling and config.model.dtype == "bfloat16" and srl.use_vllm
    # 8 GPUs x per-device 8 x accumulation 64 = 4096 rollouts = 512 prompts x G
    assert 8 * srl.per_device_batch_size * srl.gradient_accumulation_steps // srl.num_generations == 512


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
    assert config.srl.learning_rate == 3e-3 and config.lora.enabled
    assert config.data.tools == ["bash"] and config.srl.max_steps == 6


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("srl:\n  learning_rate: fast\n", "srl.learning_rate"),
        ("srl:\n  num_generation: 8\n", "srl.num_generation"),
        ("model: 3\n", "model"),
        ("data:\n  tools: bash\n", "data.tools"),
        ("sft:\n  mode: both\n", "sft.mode"),
        ("srl:\n  max_steps: true\n", "srl.max_steps"),
    ],
)
def test_invalid_yaml_names_file_and_key(tmp_path, yaml_text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and repr(key) in str(err.value)


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["srl.learning_rate"])


# ---------------------------------------------------------------------------------------------
# Training


def test_sft_rows_are_prompt_and_think_then_action(steps_dir):
    from swe_srl.train.data import load_split, to_sft_rows

    split = load_split(steps_dir, "train", max_rows=3)
    rows = to_sft_rows(split, max_thought_chars=5)
    first, source = rows[0], split[0]
    assert first["prompt"] == source["prompt"]
    assert first["completion"][0]["content"] == f"<think>{source['thought'][:5]}</think>\n{source['target']}"


def test_missing_column_names_file_row_and_field(tmp_path):
    from swe_srl.records import RecordError
    from swe_srl.train.data import load_split

    (tmp_path / "train.jsonl").write_text('{"prompt": [], "target": "x"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"train.jsonl.*record 0.*'thought'"):
        load_split(tmp_path, "train")


@pytest.mark.slow
def test_sft_run_via_cli_writes_model_metrics_and_curves(steps_dir, tiny_dir, tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app
    from swe_srl.train.metrics import read_jsonl

    run = tmp_path / "run"
    args = ["train", "sft", "--data", str(steps_dir), "--model", str(tiny_dir), "--out", str(run)]
    args += ["--config", str(CONFIGS / "sft_tiny_cpu.yaml")]
    for item in ("sft.max_steps=3", "data.max_eval_rows=3", "eval.max_new_tokens=4", "sft.save_steps=2"):
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    records = read_jsonl(run / "metrics.jsonl")
    assert [r["step"] for r in records if r["kind"] == "train" and "loss" in r] == [1, 2, 3]
    assert [r["count"] for r in records if r["kind"] == "eval"] == [3]
    assert (run / "checkpoint-2").is_dir() and (run / "final" / "config.json").is_file()
    assert (run / "train_loss.png").is_file()


@pytest.mark.slow
def test_sft_on_whole_trajectories_with_lora(tiny_dir, tmp_path):
    from swe_srl.train.devdata import default_sources
    from swe_srl.train.sft import run_sft

    trajectories = tmp_path / "trajectories"
    trajectories.mkdir()
    for source in default_sources()[:2]:
        (trajectories / source.name).write_bytes(source.read_bytes())
    config = load_config(
        CONFIGS / "sft_tiny_cpu.yaml",
        [
            f"model.path={tiny_dir}",
            f"data.path={trajectories}",
            "sft.mode=trajectories",
            "sft.max_steps=1",
            "sft.per_device_batch_size=2",
            "lora.enabled=true",
            "lora.r=4",
        ],
    )
    result = run_sft(config, tmp_path / "run")
    assert result.eval_loss is None  # whole-trajectory mode has no step-level held-out split
    assert (result.final_model / "adapter_config.json").is_file()
