"""Supervised Reinforcement Learning (SRL, arXiv 2510.25992) on expert step instances.

For each step instance the policy samples G completions (``<think>...</think>`` then one action);
each is scored by the SRL reward (``swe_srl.reward.srl_reward``: 2M/T difflib similarity of the
action to the expert's, -1 on a format error); GRPO turns the rewards into group-normalised
advantages; dynamic sampling drops groups whose rewards do not vary. TRL's GRPOTrainer does the
optimisation; ``swe_srl.train.dynamic_sampling`` adds the filter; ``swe_srl.train.session`` runs
it (run folder, launch, logging, held-out evaluation, Ctrl-C). This module, top to bottom:

    step instances  ->  prompt-length cap  ->  GRPO trainer with the SRL reward  ->  run_training

Where we deviate from the paper (and why):

- Batch size: the paper says "batch 512" without saying prompts or rollouts; ``configs/
  srl_paper_qwen7b.yaml`` reads it as 512 prompts (4,096 rollouts at G=8), DAPO's convention.
- Dynamic sampling, when the filter cannot fill the batch within ``dynamic_sampling_max_rounds``
  generation rounds, repeats the kept rows to fill it (a step that leaves the weights alone if none
  were kept) instead of sampling without bound; the kept fraction and rounds are logged every step.
- Best-on-validation selection: held-out mean step reward, exact match and format-error rate are
  logged every ``eval_steps``; ``eval.keep_best`` keeps model-only snapshots of the best scores in
  RUN/best/step-N (the paper config keeps 2), while ``save_total_limit`` full checkpoints (model,
  optimizer, RNG) are kept for resuming only, so 30 epochs fit a node's disk.
- Importance sampling: the paper's objective is plain GRPO; TRL corrects vLLM's sampling with a
  truncated importance ratio by default. ``configs/srl_paper_qwen7b.yaml`` states the choice
  (``vllm_importance_sampling_correction: false``, matching the paper); set it true to use TRL's
  correction (``vllm_importance_sampling_mode`` / ``_cap``).
- Prompts: the paper shows the last two rounds of history; long messages may be cut to head and
  tail (``data.max_message_chars``) so that CPU runs of the tiny model stay small. Off by default.
- Std for the filter is the population std of the G rewards (TRL's logs use the sample std); with
  the threshold near zero both keep the same groups.
- On CPU the tiny model, its 2-layer size and the short runs are ours; the paper trains
  Qwen2.5-Coder-7B-Instruct in bf16 with vLLM generation (``configs/srl_paper_qwen7b.yaml``). A
  randomly initialised model breaks the format on every rollout (no group has reward variance), so
  CPU runs start from an SFT warm-up (``configs/sft_tiny_cpu.yaml``: bash/submit actions, empty
  monologue) and use learning rates far above the paper's.
- Held-out evaluation generates greedily with the trained model on every process (rows sharded,
  completions gathered), not through vLLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.train.config import TrainConfig


@dataclass(frozen=True)
class SrlResult:
    """What an SRL run produced."""

    run: Path
    final_model: Path | None  # None when interrupted (resume with --resume)
    eval_history: list[dict]  # held-out metrics per evaluation, oldest first
    interrupted: bool = False
    global_step: int = 0


def grpo_trainer(ctx, method: str, reward_funcs, train, **extra):
    """A GRPO trainer for ``method`` (srl | rlvr), with dynamic sampling when the section asks for it."""
    from trl import GRPOTrainer

    from swe_srl.train.common import peft_config
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    section = ctx.config.section(method)
    common = dict(
        model=ctx.model,
        reward_funcs=reward_funcs,
        args=ctx.args,
        train_dataset=train,
        processing_class=ctx.tokenizer,
        peft_config=peft_config(ctx.config.lora, for_vllm=bool(ctx.args.use_vllm)),
        callbacks=ctx.callbacks,
        **extra,
    )
    if not section.dynamic_sampling:
        return GRPOTrainer(**common)
    return DynamicSamplingGRPOTrainer(
        **common,
        dynamic_epsilon=section.dynamic_sampling_epsilon,
        dynamic_max_rounds=section.dynamic_sampling_max_rounds,
    )


def run_srl(config: TrainConfig, out: str | Path, *, resume: bool = False) -> SrlResult:
    """Train with SRL, score the held-out split as it goes, save RUN/final and the curves."""
    from swe_srl.reward import srl_reward
    from swe_srl.train.common import cap_train_prompts
    from swe_srl.train.data import held_out_rows, load_train, load_validation
    from swe_srl.train.session import run_training

    train = load_train(config.data)
    validation = load_validation(config.data)

    def build(ctx):
        rows = cap_train_prompts(train, ctx.model, ctx.tokenizer, config, "srl")
        return grpo_trainer(ctx, "srl", [srl_reward], rows)

    outcome = run_training("srl", config, out, build, resume=resume, held_out=held_out_rows(validation))
    return SrlResult(
        outcome.run, outcome.final_model, outcome.eval_history, outcome.interrupted, outcome.global_step
    )
