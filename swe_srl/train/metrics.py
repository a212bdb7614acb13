"""Held-out evaluation and run logging: every number a run reports lands in ``RUN/metrics.jsonl``.

``score_completions`` is the pure part (completions + expert actions -> mean step reward,
exact-match rate, format-error rate). ``generate_greedy`` produces the completions with the model
being trained; ``HeldOutEvalCallback`` runs both on the validation split every ``eval_steps``
optimizer steps and at the end of training; ``JsonlLogCallback`` appends the trainer's own logs
(loss, reward, kept fraction, ...).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

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
    model, tokenizer, prompts: list[list[dict[str, str]]], max_new_tokens: int, batch_size: int
):
    """Greedy completions (left-padded batches), decoded without special tokens."""
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
                )
            new_tokens = out[:, enc["input_ids"].shape[1] :]
            outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = padding_side
        model.train(was_training)
    return outputs


def evaluate_held_out(model, tokenizer, rows: list[HeldOutRow], max_new_tokens: int, batch_size: int):
    """Generate greedily on ``rows`` and score against their expert actions."""
    completions = generate_greedy(model, tokenizer, [r.prompt for r in rows], max_new_tokens, batch_size)
    return score_completions(completions, [r.target for r in rows]), completions


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class JsonlLogCallback(TrainerCallback):
    """Append every trainer log (loss, reward, learning rate, kept fraction...) to metrics.jsonl."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            record = {"kind": "train", "step": state.global_step, "time": time.time()}
            record.update({k: v for k, v in logs.items() if isinstance(v, int | float)})
            append_jsonl(self.path, record)


class HeldOutEvalCallback(TrainerCallback):
    """Score the policy on held-out step instances every ``every`` steps and when training ends."""

    def __init__(
        self, path: Path, rows: list[HeldOutRow], tokenizer, max_new_tokens: int, batch_size: int, every=0
    ):
        self.path, self.rows, self.tokenizer = path, rows, tokenizer
        self.max_new_tokens, self.batch_size, self.every = max_new_tokens, batch_size, every
        self.last_step = -1
        self.history: list[dict[str, Any]] = []

    def _run(self, model, state) -> None:
        if not self.rows or state.global_step == self.last_step or not state.is_world_process_zero:
            return
        self.last_step = state.global_step
        metrics, _ = evaluate_held_out(model, self.tokenizer, self.rows, self.max_new_tokens, self.batch_size)
        record = {"kind": "eval", "step": state.global_step, "time": time.time(), **asdict(metrics)}
        self.history.append(record)
        append_jsonl(self.path, record)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if self.every > 0:
            self._run(model, state)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.every > 0 and state.global_step % self.every == 0:
            self._run(model, state)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self._run(model, state)
