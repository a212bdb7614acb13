"""Dynamic sampling for GRPO, as SRL uses it: train only on groups whose rewards disagree.

A group is the G rollouts of one prompt. When all G rewards are (nearly) equal, the group-normalised
advantages are zero and the group only dilutes the batch; SRL (following DAPO) drops such groups
and keeps sampling fresh prompts until the batch is full. TRL has no such option
(huggingface/trl#3708), so ``DynamicSamplingGRPOTrainer`` overrides ``_generate_and_score_completions``:

1. Rounds: TRL's own implementation generates, scores and computes group advantages for a
   generation batch, with the per-token log-prob forwards (old policy, reference model) skipped
   (``_rounds_without_logps``): a dropped group never pays for them.
2. Selection: rewards are gathered over processes by TRL, so every process knows which groups
   (over the whole launch) to keep; rows of unscorable rollouts (reward NaN: an infrastructure
   failure, not a model failure) are never kept. Kept rows are gathered to every process, so the
   pool is the same everywhere and every process leaves the loop after the same round and calls
   the same collectives, whichever process generated the kept rows (a process whose own groups
   were all dropped still trains on rows from the others).
3. Assembly: each process takes its slice of the pool (rows repeated when the rounds could not
   fill the batch), then the old-policy log-probs, vLLM's importance-sampling ratio and the
   reference log-probs are computed for those rows only (TRL's conditions and formulas).
4. A batch in which no group was kept anywhere trains on nothing: its rows are masked and, when
   all micro-batches of an optimizer step are such batches, the gradients are dropped before
   ``optimizer.step()`` so that AdamW's moments and weight decay leave the weights alone (the step
   counter and learning-rate schedule still advance; DeepSpeed steps its own optimizer, so there
   the step is a zero-gradient step).

One more TRL method, ``_calculate_rewards``, is wrapped (calling TRL's own) only to read the
rewards it computes. The selection maths (``group_stds``, ``keep_groups``, ``kept_rows``,
``fill_rows``) are pure functions.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import TrainerCallback
from trl import GRPOTrainer


def group_stds(rewards: Sequence[float], group_size: int) -> list[float]:
    """Population std of each consecutive group of ``group_size`` rewards (NaN rewards ignored)."""
    if group_size < 1 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    stds = []
    for start in range(0, len(rewards), group_size):
        values = [r for r in rewards[start : start + group_size] if not math.isnan(r)]
        if len(values) < 2:
            stds.append(0.0)
            continue
        mean = sum(values) / len(values)
        stds.append(math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)))
    return stds


def keep_groups(rewards: Sequence[float], group_size: int, epsilon: float) -> list[bool]:
    """Which groups carry a learning signal: reward std strictly greater than ``epsilon``."""
    return [std > epsilon for std in group_stds(rewards, group_size)]


def kept_rows(
    rewards: Sequence[float], keep: Sequence[bool], group_size: int, start: int, stop: int
) -> list[int]:
    """Indices (relative to ``start``) of rows in ``[start, stop)`` of kept groups with a real reward."""
    return [
        row - start for row in range(start, stop) if keep[row // group_size] and not math.isnan(rewards[row])
    ]


def fill_rows(available: int, rank: int, rows_per_rank: int) -> list[int]:
    """Pool indices of one process's slice when the pool holds ``available`` rows (repeated if too few)."""
    if available <= 0:
        return []
    return [i % available for i in range(rank * rows_per_rank, (rank + 1) * rows_per_rank)]


@dataclass
class SamplingStats:
    """What one filled batch cost: generation rounds and groups seen versus kept."""

    rounds: int = 0
    groups_seen: int = 0
    groups_kept: int = 0

    @property
    def kept_fraction(self) -> float:
        return self.groups_kept / self.groups_seen if self.groups_seen else 0.0


# Keys of TRL's batch dict by layout: prompt tensors are left-padded, completion tensors right-padded.
_PROMPT_KEYS = ("prompt_ids", "prompt_mask")


def _pad_cat(tensors: list[torch.Tensor], left: bool, value: float) -> torch.Tensor:
    width = max(t.shape[1] for t in tensors)
    padded = []
    for t in tensors:
        pad = t.new_full((t.shape[0], width - t.shape[1]), value)
        padded.append(torch.cat([pad, t], dim=1) if left else torch.cat([t, pad], dim=1))
    return torch.cat(padded, dim=0)


def concat_batches(batches: list[dict], pad_token_id: int) -> dict:
    """Concatenate TRL generation batches row-wise, re-padding sequences to a common width."""
    out: dict = {}
    for key, first in batches[0].items():
        if key == "num_items_in_batch" or first is None:
            continue
        if not isinstance(first, torch.Tensor):
            raise ValueError(f"dynamic sampling supports text-only batches; cannot merge {key!r}")
        parts = [b[key] for b in batches]
        if first.ndim == 1:
            out[key] = torch.cat(parts, dim=0)
        else:
            value = pad_token_id if key in ("prompt_ids", "completion_ids") else 0
            value = 1 if key == "tool_mask" else value  # TRL pads tool_mask with 1; completion_mask masks it
            out[key] = _pad_cat(parts, left=key in _PROMPT_KEYS, value=value)
    return out


def select_rows(batch: dict, rows: list[int]) -> dict:
    index = torch.tensor(rows, dtype=torch.long)
    return {
        k: (v[index.to(v.device)] if isinstance(v, torch.Tensor) and v.ndim > 0 else v)
        for k, v in batch.items()
    }


def importance_sampling_ratio(old, sampling, mask, mode: str, clip_min, clip_max) -> torch.Tensor:
    """vLLM's importance-sampling correction as TRL 1.16 computes it (``_generate_and_score_completions``)."""
    diff = torch.nan_to_num((old - sampling) * mask, nan=0.0)
    if mode.startswith("sequence"):
        diff = diff.sum(dim=-1, keepdim=True)
    ratio = torch.exp(diff)
    if mode.endswith("truncate"):
        return torch.clamp(ratio, min=clip_min, max=clip_max)
    low = clip_min if clip_min is not None else -math.inf
    high = clip_max if clip_max is not None else math.inf
    return ratio.masked_fill((ratio < low) | (ratio > high), 0.0)


class _DropGradientsWithoutSignal(TrainerCallback):
    """Before ``optimizer.step()``: no gradients when no micro-batch of the step had a kept row."""

    def __init__(self, trainer: DynamicSamplingGRPOTrainer):
        self.trainer = trainer

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        signals, self.trainer._step_signal = self.trainer._step_signal, []
        if signals and not any(signals):
            for parameter in self.trainer.model.parameters():
                parameter.grad = None
            self.trainer._metrics["train"]["dynamic_sampling/skipped_step"].append(1.0)
        elif signals:
            self.trainer._metrics["train"]["dynamic_sampling/skipped_step"].append(0.0)


class DynamicSamplingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer that drops zero-variance groups and resamples until the generation batch is full."""

    def __init__(self, *args, dynamic_epsilon: float = 1e-4, dynamic_max_rounds: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        self.dynamic_epsilon = dynamic_epsilon
        self.dynamic_max_rounds = dynamic_max_rounds
        self._last_rewards: list[float] = []
        self._step_signal: list[bool] = []
        # Prompts for extra rounds come from a generator seeded apart from TRL's sampler, identical on
        # every process so that groups line up across processes as they do in TRL's RepeatSampler.
        self._resample_generator = torch.Generator().manual_seed(self.args.seed + 7919)
        self.add_callback(_DropGradientsWithoutSignal(self))

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        weighted = (rewards_per_func * self.reward_weights.to(rewards_per_func.device)).nansum(dim=1)
        weighted[torch.isnan(rewards_per_func).all(dim=1)] = float("nan")
        self._last_rewards = weighted.tolist()  # gathered over processes: same on every rank
        return rewards_per_func

    def _draw_generation_batch(self, local_rows: int) -> list[dict]:
        """Fresh prompts, each repeated G times, sliced for this process (TRL's layout)."""
        g = self.num_generations
        world = self.accelerator.num_processes
        n_prompts = local_rows * world // g
        picks = torch.randint(
            len(self.train_dataset), (n_prompts,), generator=self._resample_generator
        ).tolist()
        rows = [i for i in picks for _ in range(g)]
        rank = self.accelerator.process_index
        return [self.train_dataset[i] for i in rows[rank * local_rows : (rank + 1) * local_rows]]

    @contextlib.contextmanager
    def _rounds_without_logps(self):
        """TRL's generate-and-score with its log-prob forwards skipped; they run on the kept rows later."""
        saved = (self.beta, self.vllm_importance_sampling_correction)
        self.beta, self.vllm_importance_sampling_correction = 0.0, False
        self._get_per_token_logps_and_entropies = lambda *args, **kwargs: (None, None, None)
        try:
            yield
        finally:
            del self._get_per_token_logps_and_entropies  # back to the class's method
            self.beta, self.vllm_importance_sampling_correction = saved

    def _generate_and_score_completions(self, inputs):
        if not self.model.training:
            return super()._generate_and_score_completions(inputs)
        from accelerate.utils import gather_object

        local_rows, world = len(inputs), self.accelerator.num_processes
        stats, pool = SamplingStats(), []
        with self._rounds_without_logps():
            while stats.rounds < self.dynamic_max_rounds and len(pool) < local_rows * world:
                if stats.rounds > 0:
                    inputs = self._draw_generation_batch(local_rows)
                rows, seen, kept = self._sample_round(inputs)
                stats.rounds += 1
                stats.groups_seen += seen
                stats.groups_kept += kept
                pool.extend(gather_object(rows) if world > 1 else rows)
        if len(pool) > local_rows * world:  # a uniform subset, the same on every process
            picks = torch.randperm(len(pool), generator=self._resample_generator)[: local_rows * world]
            pool = [pool[i] for i in sorted(picks.tolist())]
        return self._assemble(pool, local_rows, stats)

    def _sample_round(self, inputs) -> tuple[list[dict], int, int]:
        """One generation round: this process's rows of kept groups (CPU tensors, one row each),
        and the groups seen and kept over the whole launch."""
        batch = super()._generate_and_score_completions(inputs)
        local_rows, g = len(inputs), self.num_generations
        rank = self.accelerator.process_index
        keep = keep_groups(self._last_rewards, g, self.dynamic_epsilon)
        mine = kept_rows(self._last_rewards, keep, g, rank * local_rows, (rank + 1) * local_rows)
        rows = [
            {
                k: v.cpu()
                for k, v in select_rows(batch, [i]).items()
                if isinstance(v, torch.Tensor) and v.ndim > 0
            }
            for i in mine
        ]
        return rows, len(keep), sum(keep)

    def _empty_rows(self, count: int) -> dict:
        """A batch of ``count`` one-token rows with nothing to learn (every completion token masked)."""
        pad, eos = self._tokenizer.pad_token_id, self.eos_token_ids[0]
        batch = {
            "prompt_ids": torch.full((count, 1), pad),
            "prompt_mask": torch.ones(count, 1, dtype=torch.long),
            "completion_ids": torch.full((count, 1), eos),
            "completion_mask": torch.zeros(count, 1, dtype=torch.long),
            "advantages": torch.zeros(count),
        }
        if self.use_vllm:
            batch["sampling_per_token_logps"] = torch.zeros(count, 1)
        return batch

    def _assemble(self, pool: list[dict], local_rows: int, stats: SamplingStats) -> dict:
        """This process's slice of the kept rows with their log-probs (masked rows when none were kept)."""
        metrics = self._metrics["train"]
        metrics["dynamic_sampling/kept_fraction"].append(stats.kept_fraction)
        metrics["dynamic_sampling/rounds"].append(float(stats.rounds))
        world = self.accelerator.num_processes
        metrics["dynamic_sampling/filled_fraction"].append(min(1.0, len(pool) / (local_rows * world)))
        if pool:
            rows = fill_rows(len(pool), self.accelerator.process_index, local_rows)
            batch = concat_batches([pool[i] for i in rows], self._tokenizer.pad_token_id)
        else:  # nothing to learn from anywhere
            batch = self._empty_rows(local_rows)
        device = self.accelerator.device
        batch = {k: v.to(device) for k, v in batch.items()}
        self._add_logps(batch)
        mask = batch["completion_mask"]
        mask = mask if "tool_mask" not in batch else mask * batch["tool_mask"]
        batch["num_items_in_batch"] = self.accelerator.gather(mask.sum()).sum()
        batch["signal"] = torch.full((local_rows,), 1.0 if pool else 0.0, device=device)
        return batch

    def _add_logps(self, batch: dict) -> None:
        """Old-policy and reference log-probs (and vLLM's IS ratio) of the assembled rows, as TRL decides."""
        from trl.models.utils import disable_gradient_checkpointing
        from trl.trainer.utils import use_adapter

        generate_every = self.args.steps_per_generation * self.num_iterations
        correct_vllm = self.use_vllm and self.vllm_importance_sampling_correction
        need_old = self.args.gradient_accumulation_steps % generate_every != 0 or correct_vllm
        if not (need_old or self.beta != 0.0):
            return
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        keep, size = batch["completion_ids"].size(1), self.args.per_device_train_batch_size
        with (
            torch.no_grad(),
            disable_gradient_checkpointing(self.model, self.args.gradient_checkpointing_kwargs),
        ):
            if need_old:
                old, _, _ = self._get_per_token_logps_and_entropies(
                    self.model, ids, attention, keep, batch_size=size
                )
                batch["old_per_token_logps"] = old
            if correct_vllm:
                mask = batch["completion_mask"] * batch.get("tool_mask", 1)
                batch["importance_sampling_ratio"] = importance_sampling_ratio(
                    old,
                    batch["sampling_per_token_logps"],
                    mask,
                    self.vllm_importance_sampling_mode,
                    self.vllm_importance_sampling_clip_min,
                    self.vllm_importance_sampling_clip_max,
                )
            if self.beta != 0.0:
                if self.ref_model is not None:
                    ref, _, _ = self._get_per_token_logps_and_entropies(
                        self.ref_model, ids, attention, keep, batch_size=size
                    )
                else:
                    model = self.accelerator.unwrap_model(self.model)
                    with use_adapter(model, adapter_name="ref" if "ref" in model.peft_config else None):
                        ref, _, _ = self._get_per_token_logps_and_entropies(
                            self.model, ids, attention, keep, batch_size=size
                        )
                batch["ref_per_token_logps"] = ref

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        signal = inputs.get("signal")  # kept in the buffered batch: num_iterations > 1 reuses it
        if signal is not None and model.training:
            self._step_signal.append(bool(signal.any()))
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
