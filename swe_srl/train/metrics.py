"""Held-out evaluation and run logging: every number a run reports lands in ``RUN/metrics.jsonl``.

``score_completions`` is the pure part (completions + expert actions -> mean step reward,
exact-match rate, format-error rate). ``generate_greedy`` produces the completions with the model
being trained; ``evaluate_sharded`` splits the held-out rows over every process of a launch, so a
sharded model (FSDP, DeepSpeed ZeRO-3), whose forward needs all ranks, generates on all of them
(``synced_gpus`` keeps ranks that finish early stepping with the others) and the completions are
gathered to the main process. ``HeldOutEvalCallback`` runs it at step 0 and every ``eval_steps``
optimizer steps, and once at the end unless that step was just scored; it keeps model-only
snapshots of the best scores when asked (``eval.keep_best``). ``JsonlLogCallback`` appends the
trainer's own logs (loss, reward, kept fraction, ...) and the held-out scores to metrics.jsonl and
to TensorBoard (``RUN/tensorboard``), and to W&B when that integration is active.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from swe_srl.jsonl import append_record, cut_torn_tail, read_records
from swe_srl.train.data import HeldOutRow


@dataclass(frozen=True)
class HeldOutMetrics:
    """Scores of greedy completions on held-out step instances."""

    mean_step_reward: float  # mean SRL reward (format errors count as -1)
    exact_match_rate: float  # share whose canonical action equals the expert's
    format_error_rate: float  # share that break the output format
    count: int


def score_completions(completions: list[str], targets: list[str]) -> HeldOutMetrics:
    """Score completions against the expert actions with the SRL reward."""
    from swe_srl.actions import FormatError, parse_strict, render_action
    from swe_srl.reward import step_reward

    if len(completions) != len(targets) or not completions:
        raise ValueError(f"need one completion per target, got {len(completions)} and {len(targets)}")
    rewards, exact, errors = [], 0, 0
    for completion, target in zip(completions, targets, strict=True):
        rewards.append(float(step_reward(completion, target)))
        try:
            action_text = render_action(parse_strict(completion).action)
        except FormatError:
            errors += 1
            continue
        exact += int(action_text == target)
    n = len(completions)
    return HeldOutMetrics(sum(rewards) / n, exact / n, errors / n, n)


def generate_greedy(
    model,
    tokenizer,
    prompts: list[list[dict[str, str]]],
    max_new_tokens: int,
    batch_size: int,
    *,
    synced: bool = False,
):
    """Greedy completions (left-padded batches), decoded without special tokens.

    ``synced``: every process of the launch calls this with the same number of batches and keeps
    stepping until all are done (transformers' ``synced_gpus``), as a sharded forward requires.
    """
    import torch

    was_training = model.training
    model.eval()
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    outputs: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            texts = [
                tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                for p in prompts[start : start + batch_size]
            ]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                model.device
            )
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                    synced_gpus=synced,
                )
            new_tokens = out[:, enc["input_ids"].shape[1] :]
            outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = padding_side
        model.train(was_training)
    return outputs


def evaluate_held_out(model, tokenizer, rows: list[HeldOutRow], max_new_tokens: int, batch_size: int):
    """Generate greedily on ``rows`` in this process and score against their expert actions."""
    completions = generate_greedy(model, tokenizer, [r.prompt for r in rows], max_new_tokens, batch_size)
    return score_completions(completions, [r.target for r in rows]), completions


def shard_rows(count: int, rank: int, world: int) -> list[int]:
    """Row indices one process generates: a strided share, padded with row 0 to the same length everywhere.

    Equal lengths give every process the same number of ``generate`` calls (sharded forwards are
    collectives); the padding rows' completions are dropped before scoring.
    """
    mine = list(range(rank, count, world))
    per_rank = math.ceil(count / world)
    return mine + [-1] * (per_rank - len(mine))


def evaluate_sharded(model, tokenizer, rows: list[HeldOutRow], max_new_tokens: int, batch_size: int):
    """Every process generates its share; every process gets the metrics of all rows."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list, gather_object

    state = PartialState()
    indices = shard_rows(len(rows), state.process_index, state.num_processes)
    prompts = [rows[max(i, 0)].prompt for i in indices]
    completions = generate_greedy(
        model, tokenizer, prompts, max_new_tokens, batch_size, synced=state.num_processes > 1
    )
    mine = [(i, c) for i, c in zip(indices, completions, strict=True) if i >= 0]
    if state.num_processes == 1:
        return score_completions([c for _, c in mine], [r.target for r in rows])
    everyone = gather_object(mine)
    scored = [None]
    if state.is_main_process:
        scored = [score_completions([c for _, c in sorted(everyone)], [r.target for r in rows])]
    broadcast_object_list(scored)
    return scored[0]


# ---------------------------------------------------------------------------------------------
# metrics.jsonl, TensorBoard, W&B


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics file; a torn last line (the writer killed mid-line) is skipped."""
    return [record for _, record in read_records(path)]


def truncate_after(path: Path, step: int) -> int:
    """Drop records logged after ``step`` (a resumed run logs those steps again) and a torn last
    line; returns how many records were dropped."""
    records = read_jsonl(path)
    keep = [r for r in records if int(r.get("step", 0)) <= step]
    torn = cut_torn_tail(path)
    if len(keep) != len(records) or torn:
        path.write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
    return len(records) - len(keep)


class JsonlLogCallback(TrainerCallback):
    """Append every trainer log and held-out score to metrics.jsonl (and TensorBoard, W&B) on rank 0."""

    def __init__(self, path: Path, tensorboard: Path | None = None):
        self.path, self.tensorboard_dir = path, tensorboard
        self._writer = None
        self.echo = None  # called with (step, record) after each held-out evaluation is recorded

    def _scalars(self, prefix: str, step: int, values: dict[str, Any]) -> None:
        if self.tensorboard_dir is not None and self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.tensorboard_dir))
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"{prefix}/{key}", value, step)
            self._writer.flush()
        import sys

        wandb = sys.modules.get("wandb")  # transformers' WandbCallback logs the trainer's own records
        if prefix == "heldout" and wandb is not None and getattr(wandb, "run", None) is not None:
            wandb.log({f"heldout/{k}": v for k, v in values.items()}, step=step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            values = {k: v for k, v in logs.items() if isinstance(v, int | float) and not isinstance(v, bool)}
            append_record(
                self.path, {"kind": "train", "step": state.global_step, "time": time.time(), **values}
            )
            self._scalars("train", state.global_step, values)

    def record_eval(self, step: int, metrics: HeldOutMetrics) -> dict[str, Any]:
        """Write one held-out score (call on the main process) and return its record."""
        record = {"kind": "eval", "step": step, "time": time.time(), **asdict(metrics)}
        append_record(self.path, record)
        self._scalars("heldout", step, asdict(metrics))
        if self.echo is not None:
            self.echo(step, record)
        return record

    def on_train_end(self, args, state, control, **kwargs):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class HeldOutEvalCallback(TrainerCallback):
    """Score the policy on held-out step instances at step 0, every ``every`` steps, and at the end.

    Every process calls it (it generates a share of the rows); ``every`` 0 scores once, at the end.
    With ``keep_best`` > 0 the model of each new best mean step reward is saved (model only) to
    ``best/step-N`` and older ones beyond ``keep_best`` are removed. ``trainer`` is set after the
    trainer is built (saving a sharded model needs it). A run stopped before its last step (Ctrl-C)
    is not scored at the end.
    """

    def __init__(
        self,
        log: JsonlLogCallback,
        rows: list[HeldOutRow],
        tokenizer,
        eval_config,
        every: int = 0,
        best_dir: Path | None = None,
    ):
        self.log, self.rows, self.tokenizer = log, rows, tokenizer
        self.max_new_tokens, self.batch_size = eval_config.max_new_tokens, eval_config.batch_size
        self.keep_best = eval_config.keep_best if best_dir is not None else 0
        self.best_dir = best_dir
        self.every = every
        self.last_step = -1
        self.history: list[dict[str, Any]] = []
        self.trainer = None
        self._best: list[tuple[float, int]] = []

    def _run(self, model, state) -> None:
        if not self.rows or state.global_step == self.last_step:
            return
        self.last_step = state.global_step
        metrics = evaluate_sharded(model, self.tokenizer, self.rows, self.max_new_tokens, self.batch_size)
        if state.is_world_process_zero:
            self.history.append(self.log.record_eval(state.global_step, metrics))
        else:
            self.history.append({"kind": "eval", "step": state.global_step, **asdict(metrics)})
        if self.keep_best > 0 and self.trainer is not None:
            self._keep_if_best(metrics.mean_step_reward, state.global_step)

    def _keep_if_best(self, score: float, step: int) -> None:
        """Every process: save (a collective under sharding) when ``score`` is among the best kept."""
        from swe_srl.train.common import save_model

        if len(self._best) >= self.keep_best and score <= min(s for s, _ in self._best):
            return
        save_model(self.trainer, self.best_dir / f"step-{step}")
        self._best.append((score, step))
        self._best.sort(reverse=True)
        for _, old in self._best[self.keep_best :]:
            if self.trainer.args.should_save:
                shutil.rmtree(self.best_dir / f"step-{old}", ignore_errors=True)
        self._best = self._best[: self.keep_best]

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if self.every > 0 and state.global_step == 0:  # a resumed run was scored at its checkpoint
            self._run(model, state)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.every > 0 and state.global_step % self.every == 0:
            self._run(model, state)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if state.global_step >= state.max_steps:
            self._run(model, state)
