"""Supervised Reinforcement Learning (SRL, arXiv 2510.25992) on expert step instances.

For each step instance the policy samples G completions (``<think>...</think>`` then one action);
each is scored by the SRL reward (``swe_srl.reward.srl_reward``: 2M/T difflib similarity of the
action to the expert's, -1 on a format error); GRPO turns the rewards into group-normalised
advantages; dynamic sampling drops groups whose rewards do not vary. TRL's GRPOTrainer does the
optimisation; ``swe_srl.train.dynamic_sampling`` adds the filter. The loop, top to bottom:

    load config, model, step instances  ->  build GRPOConfig  ->  trainer (+ held-out eval callback)
    ->  train (resume from the newest checkpoint when asked)  ->  save RUN/final, metrics, curves

Where we deviate from the paper (and why):

- Batch size: the paper says "batch 512" without saying prompts or rollouts; ``configs/
  srl_paper_qwen7b.yaml`` reads it as 512 prompts (4,096 rollouts at G=8), DAPO's convention.
- Dynamic sampling, when the filter cannot fill the batch within ``dynamic_sampling_max_rounds``
  generation rounds, repeats the kept rows to fill it (a no-op step if none were kept) instead of
  sampling without bound; the kept fraction and rounds are logged every step.
- Best-on-validation checkpoint selection over 30 epochs is left to the user: we log held-out mean
  step reward, exact match and format-error rate every ``eval_steps`` to RUN/metrics.jsonl and keep
  the last ``save_total_limit`` checkpoints, rather than tracking the best one automatically.
- Prompts: the paper shows the last two rounds of history; long messages may be cut to head and
  tail (``data.max_message_chars``) so that CPU runs of the tiny model stay small. Off by default.
- Std for the filter is the population std of the G rewards (TRL's logs use the sample std); with
  the threshold near zero both keep the same groups.
- On CPU the tiny model, its 2-layer size and the short runs are ours; the paper trains
  Qwen2.5-Coder-7B-Instruct in bf16 with vLLM generation (``configs/srl_paper_qwen7b.yaml``). A
  randomly initialised model breaks the format on every rollout (no group has reward variance), so
  CPU runs start from an SFT warm-up (``configs/sft_tiny_cpu.yaml``: bash/submit actions, empty
  monologue) and use learning rates far above the paper's.
- The held-out evaluation callback generates greedily on the main process only; under DeepSpeed
  ZeRO-3 (sharded weights) set ``eval_steps: 0`` and evaluate the saved checkpoint instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.train.config import SrlConfig, TrainConfig


@dataclass(frozen=True)
class SrlResult:
    """What an SRL run produced."""

    run: Path
    final_model: Path
    eval_history: list[dict]  # held-out metrics per evaluation, oldest first


def grpo_args(srl: SrlConfig, config: TrainConfig, paths, **overrides):
    """TRL's GRPOConfig from our SRL (or RLVR) section."""
    from trl import GRPOConfig

    from swe_srl.train.common import trainer_kwargs

    kwargs = dict(
        **trainer_kwargs(srl, config, paths),
        num_generations=srl.num_generations,
        temperature=srl.temperature,
        top_p=srl.top_p,
        max_completion_length=srl.max_completion_length,
        beta=srl.beta,
        epsilon=srl.epsilon,
        loss_type=srl.loss_type,
        scale_rewards=srl.scale_rewards,
        use_vllm=srl.use_vllm,
        vllm_mode=srl.vllm_mode,
        vllm_gpu_memory_utilization=srl.vllm_gpu_memory_utilization,
        log_completions=srl.log_completions,
        eval_strategy="no",
    )
    kwargs.update(overrides)
    return GRPOConfig(**kwargs)


def build_trainer(config: TrainConfig, paths, model, tokenizer, train, callbacks):
    """A GRPO trainer with the SRL reward, with or without dynamic sampling."""
    from trl import GRPOTrainer

    from swe_srl.reward import srl_reward
    from swe_srl.train.common import peft_config
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer

    srl = config.srl
    common = dict(
        model=model,
        reward_funcs=[srl_reward],
        args=grpo_args(srl, config, paths),
        train_dataset=train,
        processing_class=tokenizer,
        peft_config=peft_config(config.lora),
        callbacks=callbacks,
    )
    if not srl.dynamic_sampling:
        return GRPOTrainer(**common)
    return DynamicSamplingGRPOTrainer(
        **common,
        dynamic_epsilon=srl.dynamic_sampling_epsilon,
        dynamic_max_rounds=srl.dynamic_sampling_max_rounds,
    )


def run_srl(config: TrainConfig, out: str | Path, *, resume: bool = False) -> SrlResult:
    """Train with SRL, score the held-out split as it goes, save RUN/final and the curves."""
    from swe_srl.train.common import latest_checkpoint, load_model_and_tokenizer, prepare_run, save_final
    from swe_srl.train.data import held_out_rows, load_train, load_validation
    from swe_srl.train.interrupt import graceful_stop
    from swe_srl.train.metrics import HeldOutEvalCallback, JsonlLogCallback
    from swe_srl.train.plots import plot_run

    paths = prepare_run(out, config)
    model, tokenizer = load_model_and_tokenizer(config.model)
    data = config.data
    train = load_train(data)
    validation = load_validation(data)
    evaluator = HeldOutEvalCallback(
        paths.metrics,
        held_out_rows(validation),
        tokenizer,
        config.eval.max_new_tokens,
        config.eval.batch_size,
        config.srl.eval_steps,
    )
    trainer = build_trainer(
        config, paths, model, tokenizer, train, [JsonlLogCallback(paths.metrics), evaluator]
    )
    with graceful_stop(trainer) as stop:
        trainer.train(resume_from_checkpoint=latest_checkpoint(paths.root) if resume else None)
    stop.check(paths.root)
    final = save_final(trainer, tokenizer, paths)
    plot_run(paths.root)
    return SrlResult(paths.root, final, evaluator.history)
