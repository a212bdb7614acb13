"""What gets trained and saved: float32 master weights, LoRA on top of an adapter, vLLM-servable ranks,
and the prompt-length cap applied when the training rows load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.slow
def test_bf16_compute_dtype_keeps_float32_master_weights(steps_dir, tiny_dir, tmp_path):
    """At lr 1e-6 an AdamW update is ~1e-6 per weight: bf16 weights (8-bit mantissa) would round every
    one of them away; the trained weights are float32, so the model moves."""
    import torch
    from transformers import AutoModelForCausalLM

    from swe_srl.train.config import load_config
    from swe_srl.train.sft import run_sft

    config = load_config(
        CONFIGS / "sft_tiny_cpu.yaml",
        [
            f"model.path={tiny_dir}",
            f"data.path={steps_dir}",
            "model.dtype=bfloat16",
            "sft.learning_rate=1e-6",
            "sft.warmup_steps=0",
            "sft.max_steps=2",
            "eval.enabled=false",
        ],
    )
    result = run_sft(config, tmp_path / "run")
    assert json.loads((result.run / "launch.json").read_text())["weights_dtype"] == "float32"
    before = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).state_dict()
    after = AutoModelForCausalLM.from_pretrained(result.final_model, dtype=torch.float32).state_dict()
    moved = [name for name in before if not torch.equal(before[name], after[name])]
    assert len(moved) >= len(before) // 2, f"only {len(moved)} of {len(before)} tensors changed"


@pytest.mark.slow
def test_lora_on_top_of_an_sft_adapter_keeps_the_sft_weights(steps_dir, tiny_dir, tmp_path):
    import torch

    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.config import ModelConfig, load_config
    from swe_srl.train.sft import run_sft
    from swe_srl.train.srl import run_srl

    common = [f"data.path={steps_dir}", "lora.enabled=true", "lora.r=4", "eval.enabled=false"]
    sft = run_sft(
        load_config(CONFIGS / "sft_tiny_cpu.yaml", [f"model.path={tiny_dir}", *common, "sft.max_steps=2"]),
        tmp_path / "sft",
    )
    assert (sft.final_model / "adapter_config.json").is_file()
    srl_settings = [
        f"model.path={sft.final_model}",
        *common,
        "srl.max_steps=1",
        "srl.per_device_train_batch_size=4",
        "srl.num_generations=2",
        "srl.max_completion_length=4",
        "srl.dynamic_sampling=false",
    ]
    srl = run_srl(load_config(CONFIGS / "srl_tiny_cpu.yaml", srl_settings), tmp_path / "srl")
    base = json.loads((srl.final_model / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert Path(base) == (tmp_path / "srl" / "base").resolve()  # the merged SFT model, not the original

    name = "model.layers.0.self_attn.q_proj.weight"
    original, _ = load_model_and_tokenizer(ModelConfig(), str(tiny_dir))
    after_sft, _ = load_model_and_tokenizer(ModelConfig(), str(sft.final_model))
    saved_base, _ = load_model_and_tokenizer(ModelConfig(), base)
    assert not torch.equal(original.state_dict()[name], after_sft.state_dict()[name])  # SFT changed it
    assert torch.equal(saved_base.state_dict()[name], after_sft.state_dict()[name])  # and it is kept
    final, _ = load_model_and_tokenizer(ModelConfig(), str(srl.final_model))  # SFT + SRL adapters
    assert final.config.model_type == "qwen2"


def test_lora_rank_is_rounded_up_to_one_vllm_serves():
    from swe_srl.train.common import peft_config
    from swe_srl.train.config import ConfigError, LoraConfig

    ranks = [
        peft_config(LoraConfig(enabled=True, r=r), for_vllm=True).r for r in (1, 2, 8, 12, 200, 300, 500)
    ]
    assert ranks == [1, 8, 8, 16, 256, 320, 512]
    with pytest.raises(ConfigError, match=r"lora\.r"):
        peft_config(LoraConfig(enabled=True, r=513), for_vllm=True)
    lora = LoraConfig(enabled=True, r=12, alpha=24)
    served = peft_config(lora, for_vllm=True)
    assert (served.r, served.lora_alpha) == (16, 32)  # the same alpha / r scaling
    assert peft_config(lora).r == 12  # no vLLM: the rank as configured


def test_prompt_length_cap_trims_long_prompts_and_counts_what_it_did(steps_dir, tiny_dir, capsys):
    """Prompts over the cap are shortened by the context builder's policy (swe_srl.context.trim_messages);
    a row whose system prompt, issue and newest round cannot fit is dropped; both are counted."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from swe_srl.train.common import cap_train_prompts
    from swe_srl.train.config import load_config
    from swe_srl.train.data import load_train, prompt_tokens

    config = load_config(
        CONFIGS / "srl_tiny_cpu.yaml", [f"data.path={steps_dir}", "data.max_message_chars=0"]
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    rows = load_train(config.data)
    lengths = sorted(prompt_tokens(r["prompt"], tokenizer) for r in rows)
    limit = lengths[len(lengths) // 2]  # about half the rows are longer
    over = sum(1 for n in lengths if n > limit)
    config.data.max_prompt_tokens = limit
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    kept = cap_train_prompts(rows, model, tokenizer, config, "srl")
    assert all(prompt_tokens(r["prompt"], tokenizer) <= limit for r in kept)
    trimmed, dropped = over - (len(rows) - len(kept)), len(rows) - len(kept)
    assert trimmed > 0 and 0 < over < len(rows)
    message = capsys.readouterr().err
    assert (
        f"prompt-length cap ({limit} tokens): trimmed {trimmed} and dropped {dropped} of {len(rows)}"
        in message
    )
    # Without a cap set, the limit is the model's context minus the completion budget.
    config.data.max_prompt_tokens = 0
    model.config.max_position_embeddings = limit + config.srl.trl["max_completion_length"]
    assert len(cap_train_prompts(rows, model, tokenizer, config, "srl")) == len(kept)


def test_sft_rows_longer_than_max_length_are_fitted_not_cut(steps_dir, tiny_dir, capsys):
    """SFTTrainer would cut a row over max_length inside the action it teaches; its prompt is trimmed
    instead (or the row dropped), so prompt and completion fit."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from swe_srl.train.common import cap_train_prompts
    from swe_srl.train.config import load_config
    from swe_srl.train.data import load_train, to_sft_rows

    config = load_config(CONFIGS / "sft_tiny_cpu.yaml", [f"data.path={steps_dir}", "sft.max_length=160"])
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    rows = to_sft_rows(load_train(config.data), config.data.max_thought_chars)
    kept = cap_train_prompts(rows, AutoModelForCausalLM.from_pretrained(tiny_dir), tokenizer, config, "sft")
    assert 0 < len(kept) <= len(rows)
    assert "prompt-length cap (160 tokens): trimmed" in capsys.readouterr().err
    for row in kept:
        text = tokenizer.apply_chat_template([*row["prompt"], *row["completion"]], tokenize=False)
        assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= 160 + 2
