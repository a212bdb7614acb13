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
    fill_rows,
    group_stds,
    importance_sampling_ratio,
    keep_groups,
    kept_rows,
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


def test_kept_rows_slice_of_one_process():
    keep = [True, False, True]  # groups of 2 over rows 0..5
    rewards = [0.0, 1.0, 0.5, 0.5, 0.0, 1.0]
    assert kept_rows(rewards, keep, 2, 0, 6) == [0, 1, 4, 5]
    assert kept_rows(rewards, keep, 2, 2, 6) == [2, 3]  # rows 4, 5 relative to start 2
    assert kept_rows(rewards, keep, 2, 2, 4) == []


def test_unscorable_rows_are_never_kept():
    """A NaN reward (an infrastructure failure) is not a sample to learn from, even in a kept group."""
    rewards = [0.0, math.nan, 1.0, 0.0]
    keep = keep_groups(rewards, 4, 1e-4)
    assert keep == [True]
    assert kept_rows(rewards, keep, 4, 0, 4) == [0, 2, 3]


def test_fill_rows_slices_the_shared_pool_and_repeats_when_short():
    assert fill_rows(8, 0, 4) == [0, 1, 2, 3] and fill_rows(8, 1, 4) == [4, 5, 6, 7]
    assert fill_rows(3, 1, 4) == [1, 2, 0, 1]  # 3 kept rows fill 2 x 4 slots
    assert fill_rows(0, 0, 4) == []


def test_importance_sampling_ratio_matches_trl_modes():
    old = torch.tensor([[0.0, -1.0, -2.0]])
    sampled = torch.tensor([[0.0, -1.5, -1.0]])
    mask = torch.tensor([[1, 1, 0]])
    # sequence level: exp(sum of masked differences) = exp(0 + 0.5)
    ratio = importance_sampling_ratio(old, sampled, mask, "sequence_mask", None, 3.0)
    assert ratio.shape == (1, 1) and ratio.item() == pytest.approx(math.exp(0.5))
    assert importance_sampling_ratio(old, sampled, mask, "sequence_mask", None, 1.5).item() == 0.0
    assert importance_sampling_ratio(old, sampled, mask, "sequence_truncate", None, 1.5).item() == 1.5
    token = importance_sampling_ratio(old, sampled, mask, "token_truncate", None, 1.2)
    assert token.tolist()[0] == pytest.approx([1.0, 1.2, 1.0])


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

    from swe_srl.train.common import checkpointing_field
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
        **{checkpointing_field(GRPOConfig): False},
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


def _trainer(cls, model_dir, out, reward, rows, **overrides):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from swe_srl.train.common import checkpointing_field

    settings = dict(
        output_dir=str(out),
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
    settings[checkpointing_field(GRPOConfig)] = False
    settings.update(overrides)
    return cls(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        reward_funcs=[reward],
        args=GRPOConfig(**settings),
        train_dataset=Dataset.from_list(rows),
        processing_class=AutoTokenizer.from_pretrained(model_dir),
        dynamic_epsilon=1e-4,
        dynamic_max_rounds=3,
    )


ROWS = [
    {"prompt": [{"role": "user", "content": f"{CONSTANT} 0"}], "kind": "flat"},
    {"prompt": [{"role": "user", "content": "varying prompt 1"}], "kind": "varied"},
]


@pytest.mark.slow
def test_dropped_groups_never_pay_the_old_logprob_forward(tiny_model_dir, tmp_path):
    """With generation and optimisation misaligned (steps_per_generation 2, accumulation 1), TRL needs the
    old policy's log-probs; they are computed for the assembled batch only, not for every generated row."""
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    forwarded: list[int] = []  # rows per log-prob forward made without gradients (old/ref policy)
    generated: list[int] = []

    class Counting(DynamicSamplingGRPOTrainer):
        def _get_per_token_logps_and_entropies(self, model, input_ids, *args, **kwargs):
            if not torch.is_grad_enabled():
                forwarded.append(input_ids.shape[0])
            return super()._get_per_token_logps_and_entropies(model, input_ids, *args, **kwargs)

        def _sample_round(self, inputs):
            generated.append(len(inputs))
            return super()._sample_round(inputs)

    trainer = _trainer(
        Counting,
        tiny_model_dir,
        tmp_path,
        _reward,
        ROWS,
        per_device_train_batch_size=4,
        steps_per_generation=2,
    )
    trainer.train()
    assert sum(generated) > 8  # every generation batch needed more than one round (one group of two kept)
    assert sum(forwarded) == 8  # one generation batch of 8 rows, forwarded once
    assert trainer.state.global_step == 2


@pytest.mark.slow
def test_a_step_with_no_kept_group_leaves_the_weights_alone(tiny_model_dir, tmp_path):
    """No group anywhere has a reward spread: no gradients reach AdamW (its weight decay and moments
    would move the weights); the step counter and schedule still advance."""
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    def flat(completions, **kwargs):
        return [0.5] * len(completions)

    trainer = _trainer(DynamicSamplingGRPOTrainer, tiny_model_dir, tmp_path, flat, ROWS, weight_decay=0.1)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()
    after = trainer.model.state_dict()
    assert trainer.state.global_step == 2
    assert all(torch.equal(before[k], after[k]) for k in before), "the weights moved on a step without signal"
    logged = [h for h in trainer.state.log_history if "dynamic_sampling/skipped_step" in h]
    assert [h["dynamic_sampling/skipped_step"] for h in logged] == [1.0, 1.0]


@pytest.mark.slow
def test_ranks_keeping_different_numbers_of_groups_stay_in_step(tiny_dir, tmp_path):
    """Two processes (gloo): rank 0 keeps both its groups every round, rank 1 keeps none. Both leave
    each round loop together, train on rows from the shared pool, and the run finishes (a rank that
    returned early without the others' collectives would hang here until the timeout)."""
    import json

    from train_launch import launch

    result = launch(
        ["dynamic-sampling-ranks", str(tiny_dir), str(tmp_path)], tmp_path, script=True, timeout=420
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["rounds"] == ranks[1]["rounds"] == [2, 2]  # 4 kept rows per round, 8 needed
    assert ranks[0]["pool"] == ranks[1]["pool"] == [8, 8]
    for rank in ranks:  # rank 1's own groups all had advantage 0: these rows came from rank 0
        assert len(rank["advantages"]) == 2
        assert all(abs(a) > 0.5 for batch in rank["advantages"] for a in batch)
