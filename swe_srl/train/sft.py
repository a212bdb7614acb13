"""Supervised fine-tuning on expert data: the paper's SFT baseline, and the warm-up before SRL.

Two views of the same expert trajectories:

- ``steps`` (default): each step instance is a prompt (task + last rounds) and the completion
  ``<think>thought</think>\\naction``; the loss covers the completion only.
- ``trajectories``: whole conversations (``messages``) from normalized trajectory files, as SWE-Gym
  trains its SFT agents; ``data.path`` then names trajectory files or folders.

TRL's ``SFTTrainer`` does the work; ``swe_srl.train.session`` runs it (folders, launch, logging,
held-out evaluation, interruption); this module only wires data, config and trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.train.config import TrainConfig


@dataclass(frozen=True)
class SftResult:
    """What an SFT run produced."""

    run: Path
    final_model: Path | None  # None when interrupted (resume with --resume)
    train_loss: float | None
    eval_loss: float | None  # held-out token loss on the completion (steps mode)
    interrupted: bool = False
    global_step: int = 0


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
    from swe_srl.train.data import load_train, load_validation

    data = config.data
    if config.sft.mode == "trajectories":
        return trajectory_conversations([data.path]), None
    return load_train(data), load_validation(data)


def run_sft(config: TrainConfig, out: str | Path, *, resume: bool = False) -> SftResult:
    """Train with SFT, evaluate on the validation split, save RUN/final and the curves."""
    from swe_srl.train.data import held_out_rows
    from swe_srl.train.session import run_training

    train, validation = _datasets(config)

    def build(ctx):
        from trl import SFTTrainer

        from swe_srl.train.common import cap_train_prompts, peft_config
        from swe_srl.train.data import to_sft_rows

        thought = config.data.max_thought_chars
        rows = train if validation is None else to_sft_rows(train, thought)
        if validation is not None:
            rows = cap_train_prompts(rows, ctx.model, ctx.tokenizer, config, "sft")
        trainer = SFTTrainer(
            model=ctx.model,
            args=ctx.args,
            train_dataset=rows,
            eval_dataset=to_sft_rows(validation, thought) if validation is not None else None,
            processing_class=ctx.tokenizer,
            peft_config=peft_config(config.lora),
            callbacks=ctx.callbacks,
        )
        return trainer

    outcome = run_training(
        "sft",
        config,
        out,
        build,
        resume=resume,
        held_out=held_out_rows(validation) if validation is not None else None,
        managed_args={
            "completion_only_loss": True if config.sft.mode == "steps" else None,
            "per_device_eval_batch_size": config.eval.batch_size,
        },
    )
    eval_loss = None
    if validation is not None and not outcome.interrupted:  # every process takes part
        eval_loss = float(outcome.trainer.evaluate()["eval_loss"])
    return SftResult(
        outcome.run,
        outcome.final_model,
        outcome.train_loss,
        eval_loss,
        outcome.interrupted,
        outcome.global_step,
    )


def held_out_loss(config: TrainConfig, model_path: str) -> float:
    """Mean completion-token loss of a model on the validation split (the SFT learning signal)."""
    import torch

    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.data import load_validation, sft_completion_text

    model, tokenizer = load_model_and_tokenizer(config.model, model_path)
    model.eval()
    validation = load_validation(config.data)
    max_length = int(config.sft.trl.get("max_length") or 2048)
    total, count = 0.0, 0
    for row in validation:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        limit = config.data.max_thought_chars
        thought = row["thought"][:limit] if limit >= 0 else row["thought"]
        answer = sft_completion_text(thought, row["target"]) + tokenizer.eos_token
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + answer_ids])[:, -max_length:]
        labels = ids.clone()
        labels[:, : max(0, ids.shape[1] - len(answer_ids))] = -100
        with torch.no_grad():
            loss = model(input_ids=ids, labels=labels).loss
        total += float(loss) * len(answer_ids)
        count += len(answer_ids)
    return total / max(count, 1)
