"""SFT on CPU: step instances and whole trajectories (tests/test_train_config.py covers the config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.train.config import load_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


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
            "sft.per_device_train_batch_size=2",
            "lora.enabled=true",
            "lora.r=4",
        ],
    )
    result = run_sft(config, tmp_path / "run")
    assert result.eval_loss is None  # whole-trajectory mode has no step-level held-out split
    assert (result.final_model / "adapter_config.json").is_file()
