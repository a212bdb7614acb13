"""Dynamic sampling: the pure group filter, batch merging, and the GRPOTrainer override on CPU.

The trainer test runs TRL's real GRPOTrainer machinery (generation, rewards, loss) with the tiny
model. Half of the prompts get a constant reward (zero std: no signal), half a reward that varies
with the sampled completion. A spy subclass records what reaches ``compute_loss``.
"""

from __future__ import annotations

import math

import pytest
import torch

from swe_srl.train.dynamic_sampling import (
    SamplingStats,
    concat_batches,
    group_stds,
    keep_groups,
    kept_row_indices,
)


def test_group_stds_population_std_per_group():
    stds = group_stds([1.0, 1.0, 0.0, 2.0], 2)
    assert stds == [0.0, 1.0]


def test_keep_groups_uses_strict_threshold():
    rewards = [0.5, 0.5, 0.5, -1.0, 0.2, 0.2, 0.3, 0.3]
    assert keep_groups(rewards, 4, 1e-4) == [True, True]
    assert keep_groups([0.5] * 4 + [0.1, 0.1, 0.1, 0.1001], 4, 1e-4) == [False, False]
    assert keep_groups([0.0, 0.2], 2, 0.1) == [False]  # std exactly 0.1 is not above 0.1
    assert keep_groups([0.0, 0.2000001], 2, 0.1) == [True]


def test_nan_rewards_are_ignored_and_lone_values_have_no_spread():
    assert group_stds([math.nan, 1.0, 3.0], 3) == [1.0]
    assert keep_groups([math.nan, 1.0], 2, 0.0) == [False]


def test_group_size_must_divide_rewards():
    with pytest.raises(ValueError, match="groups of 3"):
        group_stds([1.0, 2.0], 3)


def test_kept_row_indices_slice_of_one_process():
    keep = [True, False, True]  # groups of 2 over rows 0..5
    assert kept_row_indices(keep, 2, 0, 6) == [0, 1, 4, 5]
    assert kept_row_indices(keep, 2, 2, 6) == [2, 3]  # rows 4, 5 relative to start 2
    assert kept_row_indices(keep, 2, 2, 4) == []


def test_sampling_stats_kept_fraction():
    assert SamplingStats(rounds=2, groups_seen=8, groups_kept=2).kept_fraction == 0.25
    assert SamplingStats().kept_fraction == 0.0


def test_concat_batches_repads_prompts_left_and_completions_right():
    a = {
        "prompt_ids": torch.tensor([[7, 8]]),
        "prompt_mask": torch.tensor([[1, 1]]),
        "completion_ids": torch.tensor([[5]]),
        "completion_mask": torch.tensor([[1]]),
        "advantages": torch.tensor([0.5]),
        "num_items_in_batch": torch.tensor(1),
    }
    b = {
        "prompt_ids": torch.tensor([[9]]),
        "prompt_mask": torch.tensor([[1]]),
        "completion_ids": torch.tensor([[3, 4, 6]]),
        "completion_mask": torch.tensor([[1, 1, 1]]),
        "advantages": torch.tensor([-0.5]),
        "num_items_in_batch": torch.tensor(3),
    }
    merged = concat_batches([a, b], pad_token_id=0)
    assert merged["prompt_ids"].tolist() == [[7, 8], [0, 9]]
    assert merged["prompt_mask"].tolist() == [[1, 1], [0, 1]]
    assert merged["completion_ids"].tolist() == [[5, 0, 0], [3, 4, 6]]
    assert merged["completion_mask"].tolist() == [[1, 0, 0], [1, 1, 1]]
    assert merged["advantages"].tolist() == [0.5, -0.5]
    assert "num_items_in_batch" not in merged


def test_concat_batches_rejects_non_tensor_fields():
    with pytest.raises(ValueError, match="text-only"):
        concat_batches([{"num_images": [1]}], pad_token_id=0)


# ---------------------------------------------------------------------------------------------
# The override inside TRL's GRPOTrainer


CONSTANT = "constant-reward-prompt"


def _reward(completions, kind, **kwargs):
    """Constant for 'flat' prompts; distinct values within every 'varied' group."""
    return [0.5 if k == "flat" else float(i) for i, k in enumerate(kind)]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    out = tmp_path_factory.mktemp("tiny")
    corpus = tmp_path_factory.mktemp("corpus") / "text.txt"
    corpus.write_text(
        "fix the bug in the parser\n" * 50 + CONSTANT + " varying prompt\n" * 20, encoding="utf-8"
    )
    return init_tiny(out, corpus=[corpus], spec=TinyModelSpec(vocab_size=400, hidden_size=32, seed=0))


@pytest.mark.slow
def test_trainer_drops_zero_std_groups_before_the_loss(tiny_model_dir, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    # Two prompts, G=4, 8 rows per step: every generation batch holds both groups, so the first
    # round of each step drops exactly one group and cannot fill the batch alone.
    rows = [
        {"prompt": [{"role": "user", "content": f"{CONSTANT} 0"}], "kind": "flat"},
        {"prompt": [{"role": "user", "content": "varying prompt 1"}], "kind": "varied"},
    ]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    seen_in_loss: list[str] = []

    class Spy(DynamicSamplingGRPOTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            seen_in_loss.extend(tokenizer.batch_decode(inputs["prompt_ids"], skip_special_tokens=True))
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=8,
        max_steps=2,
        learning_rate=1e-3,
        temperature=1.0,
        beta=0.0,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
    )
    trainer = Spy(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        reward_funcs=[_reward],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        dynamic_epsilon=1e-4,
        dynamic_max_rounds=3,
    )
    trainer.train()

    assert len(seen_in_loss) == 16  # 2 steps x 8 rows: the batch was filled to size
    assert not [p for p in seen_in_loss if CONSTANT in p], "a zero-std group reached the loss"
    logged = [h for h in trainer.state.log_history if "dynamic_sampling/kept_fraction" in h]
    assert len(logged) == 2
    # Round one keeps one group of two; later rounds draw random prompts: strictly between 0 and 1.
    assert all(0.0 < h["dynamic_sampling/kept_fraction"] < 1.0 for h in logged)
    assert all(h["dynamic_sampling/rounds"] >= 2 for h in logged)  # one round yields only half a batch
