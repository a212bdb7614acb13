"""Dynamic sampling for GRPO, as SRL uses it: train only on groups whose rewards disagree.

A group is the G rollouts of one prompt. When all G rewards are (nearly) equal, the group-normalised
advantages are zero and the group only dilutes the batch; SRL (following DAPO) drops such groups
and keeps sampling fresh prompts until the batch is full. TRL has no such option
(huggingface/trl#3708), so ``DynamicSamplingGRPOTrainer`` overrides exactly one method,
``_generate_and_score_completions``: it calls TRL's own implementation on a generation batch,
keeps the rows of groups whose reward std exceeds epsilon, and repeats on freshly drawn prompts
until enough rows are kept or ``max_rounds`` is reached. One more TRL method,
``_calculate_rewards``, is wrapped (calling TRL's own) only to read the rewards it computes.

The selection maths (``group_stds``, ``keep_groups``, ``kept_row_indices``) are pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
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


def kept_row_indices(keep: Sequence[bool], group_size: int, start: int, stop: int) -> list[int]:
    """Indices (relative to ``start``) of the rows in ``[start, stop)`` that belong to kept groups."""
    return [row - start for row in range(start, stop) if keep[row // group_size]]


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
_ROW_KEYS = ("advantages",)


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
        if key in _ROW_KEYS or first.ndim == 1:
            out[key] = torch.cat(parts, dim=0)
        else:
            value = pad_token_id if key in ("prompt_ids", "completion_ids") else 0
            # tool_mask pads with 1 as TRL does; completion_mask already masks the padding
            value = 1 if key == "tool_mask" else value
            out[key] = _pad_cat(parts, left=key in _PROMPT_KEYS, value=value)
    return out


def select_rows(batch: dict, rows: list[int]) -> dict:
    index = torch.tensor(rows, dtype=torch.long)
    return {
        k: (v[index.to(v.device)] if isinstance(v, torch.Tensor) and v.ndim > 0 else v)
        for k, v in batch.items()
    }


class DynamicSamplingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer that drops zero-variance groups and resamples until the generation batch is full."""

    def __init__(self, *args, dynamic_epsilon: float = 1e-4, dynamic_max_rounds: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        self.dynamic_epsilon = dynamic_epsilon
        self.dynamic_max_rounds = dynamic_max_rounds
        self._last_rewards: list[float] = []
        # Prompts for extra rounds come from a generator seeded apart from TRL's sampler, identical on
        # every process so that groups line up across processes as they do in TRL's RepeatSampler.
        self._resample_generator = torch.Generator().manual_seed(self.args.seed + 7919)

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
        mine = rows[
            self.accelerator.process_index * local_rows : (self.accelerator.process_index + 1) * local_rows
        ]
        return [self.train_dataset[i] for i in mine]

    def _generate_and_score_completions(self, inputs):
        if not self.model.training:
            return super()._generate_and_score_completions(inputs)
        local_rows, g = len(inputs), self.num_generations
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        stats, kept_parts, kept_counts = SamplingStats(), [], [0] * world
        batch = None
        while stats.rounds < self.dynamic_max_rounds and min(kept_counts) < local_rows:
            if stats.rounds > 0:
                inputs = self._draw_generation_batch(local_rows)
            batch = super()._generate_and_score_completions(inputs)
            keep = keep_groups(self._last_rewards, g, self.dynamic_epsilon)
            stats.rounds += 1
            stats.groups_seen += len(keep)
            stats.groups_kept += sum(keep)
            for proc in range(world):  # every rank knows every rank's count: same stop decision
                kept_counts[proc] += len(
                    kept_row_indices(keep, g, proc * local_rows, (proc + 1) * local_rows)
                )
            rows = kept_row_indices(keep, g, rank * local_rows, (rank + 1) * local_rows)
            if rows:
                kept_parts.append(select_rows(batch, rows))
        return self._finish_batch(batch, kept_parts, local_rows, stats)

    def _finish_batch(
        self, last: dict, kept_parts: list[dict], local_rows: int, stats: SamplingStats
    ) -> dict:
        """Trim the kept rows to the batch size; if too few, repeat them; if none, a zero-advantage batch."""
        metrics = self._metrics["train"]
        metrics["dynamic_sampling/kept_fraction"].append(stats.kept_fraction)
        metrics["dynamic_sampling/rounds"].append(float(stats.rounds))
        if not kept_parts:
            # No group had a signal in max_rounds: zero advantages make this step a no-op for the policy.
            metrics["dynamic_sampling/filled_fraction"].append(0.0)
            return {**last, "advantages": torch.zeros_like(last["advantages"])}
        merged = concat_batches(kept_parts, self._tokenizer.pad_token_id)
        available = merged["advantages"].shape[0]
        metrics["dynamic_sampling/filled_fraction"].append(min(1.0, available / local_rows))
        batch = select_rows(merged, [i % available for i in range(local_rows)])
        mask = (
            batch["completion_mask"]
            if "tool_mask" not in batch
            else batch["completion_mask"] * batch["tool_mask"]
        )
        batch["num_items_in_batch"] = self.accelerator.gather(mask.sum()).sum()
        return batch
