"""Supervised fine-tuning on expert data: the paper's SFT baseline, and the warm-up before SRL.

Two views of the same expert trajectories:

- ``steps`` (default): each step instance is a prompt (task + last rounds) and the completion
  ``<think>thought</think>\\naction``; the loss covers the completion only.
- ``trajectories``: whole conversations (``messages``) from normalized trajectory files, as SWE-Gym
  trains its SFT agents; ``data.path`` then names trajectory files or folders.

TRL's ``SFTTrainer`` does the work; this module only wires data, config and callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.train.config import TrainConfig


@dataclass(frozen=True)
class SftResult:
    """What an SFT run produced."""

    run: Path
    final_model: Path
    train_loss: float
    eval_loss: float | None  # held-out token loss on the completion (steps mode)


def trajectory_conversations(paths: list[str]):
    """Multi-turn ``messages`` rows, one per normalized trajectory, with the full history."""
    from datasets import Dataset

    from swe_srl.context import ContextConfig, build_messages, render_reply
    from swe_srl.trajectories.io import iter_trajectories

    rows = []
    for traj in iter_trajectories(paths):
        if not traj.steps:
            continue
        last = traj.steps[-1]
        prompt = build_messages(traj.problem_statement, traj.steps[:-1], ContextConfig(window=None))
        answer = render_reply(last.thought, last.action)
        rows.append({"messages": [*prompt, {"role": "assistant", "content": answer}]})
    return Dataset.from_list(rows)


def _datasets(config: TrainConfig):
    from swe_srl.train.data import load_train, load_validation, to_sft_rows

    data = config.data
    if config.sft.mode == "trajectories":
        return trajectory_conversations([data.path]), None
    train = load_train(data)
    validation = load_validation(data)
    return to_sft_rows(train, data.max_thought_chars), validation


def run_sft(config: TrainConfig, out: str | Path, *, resume: bool = False) -> SftResult:
    """Train with SFT, evaluate on the validation split, save RUN/final and the curves."""
    from trl import SFTConfig, SFTTrainer

    from swe_srl.train.common import (
        latest_checkpoint,
        load_model_and_tokenizer,
        peft_config,
        prepare_run,
        save_final,
        trainer_kwargs,
    )
    from swe_srl.train.data import held_out_rows, to_sft_rows
    from swe_srl.train.interrupt import graceful_stop
    from swe_srl.train.metrics import HeldOutEvalCallback, JsonlLogCallback
    from swe_srl.train.plots import plot_run

    paths = prepare_run(out, config)
    model, tokenizer = load_model_and_tokenizer(config.model)
    train_rows, validation = _datasets(config)
    sft = config.sft
    args = SFTConfig(
        **trainer_kwargs(sft, config, paths),
        max_length=sft.max_length,
        completion_only_loss=True if sft.mode == "steps" else None,
        packing=False,
        eval_strategy="no",
        per_device_eval_batch_size=config.eval.batch_size,
    )
    callbacks = [JsonlLogCallback(paths.metrics)]
    if validation is not None:
        rows = held_out_rows(validation)
        callbacks.append(
            HeldOutEvalCallback(
                paths.metrics,
                rows,
                tokenizer,
                config.eval.max_new_tokens,
                config.eval.batch_size,
                sft.eval_steps,
            )
        )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=to_sft_rows(validation, config.data.max_thought_chars)
        if validation is not None
        else None,
        processing_class=tokenizer,
        peft_config=peft_config(config.lora),
        callbacks=callbacks,
    )
    checkpoint = latest_checkpoint(paths.root) if resume else None
    with graceful_stop(trainer) as stop:
        train_output = trainer.train(resume_from_checkpoint=checkpoint)
    stop.check(paths.root)
    eval_loss = trainer.evaluate()["eval_loss"] if validation is not None else None
    final = save_final(trainer, tokenizer, paths)
    plot_run(paths.root)
    return SftResult(paths.root, final, float(train_output.training_loss), eval_loss)


def held_out_loss(config: TrainConfig, model_path: str) -> float:
    """Mean completion-token loss of a model on the validation split (the SFT learning signal)."""
    import torch

    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.data import load_validation, sft_completion_text

    model, tokenizer = load_model_and_tokenizer(config.model, model_path)
    model.eval()
    validation = load_validation(config.data)
    total, count = 0.0, 0
    for row in validation:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        limit = config.data.max_thought_chars
        thought = row["thought"][:limit] if limit >= 0 else row["thought"]
        answer = sft_completion_text(thought, row["target"]) + tokenizer.eos_token
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + answer_ids])[:, -config.sft.max_length :]
        labels = ids.clone()
        labels[:, : max(0, ids.shape[1] - len(answer_ids))] = -100
        with torch.no_grad():
            loss = model(input_ids=ids, labels=labels).loss
        total += float(loss) * len(answer_ids)
        count += len(answer_ids)
    return total / max(count, 1)
