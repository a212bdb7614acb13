"""RLVR: GRPO on whole episodes in SweEnv, rewarded by whether the final patch resolves the task.

For each task row, G episodes run at once (``swe_srl.train.episodes``): the project's agent loop,
the evaluation context (``build_messages``: system prompt with bash, str_replace_editor and submit
and the XML reply format, the issue, the last rounds), the same reply parser in ``SweEnv``. Each
turn's replies of all waiting episodes are generated in one batch through TRL's generation backend
(vLLM colocate or server on GPUs, ``generate`` on CPU), with TRL's weight syncing. Sandbox
commands and grading run in the episode threads, so finished episodes are graded concurrently.

The reward of an episode is 1.0 when the grader resolves its patch (an episode the model did not
submit is submitted for it), plus, when ``rlvr.step_reward_weight`` > 0 and the task has an expert
trajectory, that weight times the mean SRL similarity of its actions to the expert's at the same
index. Episodes that failed outside the model (sandbox or grader errors, a prompt over the context)
are masked, not scored 0. Advantages are GRPO's, normalised over the G episodes of a task; every
turn of an episode is one training row (its prompt as the model saw it, its reply) carrying the
episode's advantage, and each optimizer step trains on a uniform sample of those rows
(``per_device_train_batch_size`` x accumulation x processes). Dynamic sampling (``rlvr.dynamic_sampling``)
keeps only tasks whose G rewards differ, as in SRL; the rounds, the pool and the log-prob forwards
are ``DynamicSamplingGRPOTrainer``'s.

``--init CHECKPOINT`` starts from an SRL run's model: the SRL -> RLVR curriculum.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from swe_srl.records import Task
from swe_srl.train.config import RlvrOptions, TrainConfig
from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer
from swe_srl.train.episodes import (
    EpisodeRecord,
    Turn,
    TurnBatcher,
    group_advantages,
    run_episode_thread,
    step_shaping,
)


@dataclass(frozen=True)
class RlvrResult:
    """What an RLVR run produced."""

    run: Path
    final_model: Path | None  # None when interrupted (resume with --resume)
    episodes: int  # episodes this process ran
    resolved_rate: float  # share of them whose patch resolved the task
    interrupted: bool = False
    global_step: int = 0


def expert_actions_by_task(sources: list[Path]) -> dict[str, list[str]]:
    """Canonical expert actions per instance id, from trajectory files (for per-step shaping)."""
    from swe_srl.actions import render_action
    from swe_srl.trajectories.importers import import_paths

    found: dict[str, list[str]] = {}
    for traj in import_paths([str(p) for p in sources]):
        found.setdefault(traj.instance_id, [render_action(step.action) for step in traj.steps])
    return found


def resolved(completions, **kwargs):
    """Placeholder reward: RLVR's rewards come from whole episodes (``RlvrTrainer._sample_round``);
    TRL's trainer only needs a reward source to exist."""
    return [None] * len(completions)


def task_dataset(tasks: list[Task]):
    """One row per task: the context before its first action (for logs) and its instance id."""
    from datasets import Dataset

    from swe_srl.context import build_messages

    return Dataset.from_list(
        [{"prompt": build_messages(t.problem_statement, []), "instance_id": t.instance_id} for t in tasks]
    )


class RlvrTrainer(DynamicSamplingGRPOTrainer):
    """GRPO whose rollouts are SweEnv episodes; see the module docstring."""

    def __init__(self, *args, tasks: list[Task], rlvr: RlvrOptions, experts, prompt_limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = {t.instance_id: t for t in tasks}
        self.rlvr, self.experts, self.prompt_limit = rlvr, experts, prompt_limit
        self.envs: list = []
        self.episodes_run = self.episodes_resolved = 0

    def _env(self, index: int):
        from swe_srl.env import SweEnv
        from swe_srl.eval.grader import SandboxGrader

        while len(self.envs) <= index:
            self.envs.append(
                SweEnv(
                    tasks=list(self.tasks.values()),
                    sandbox=self.rlvr.sandbox,
                    max_steps=self.rlvr.max_turns,
                    step_timeout=self.rlvr.command_timeout,
                    grader=SandboxGrader(self.rlvr.sandbox),
                    diff_every_step=False,
                )
            )
        return self.envs[index]

    def close_envs(self) -> None:
        for env in self.envs:
            env.close()
        self.envs = []

    def _prompt_ids(self, messages: list[dict]) -> list[int] | None:
        """The turn's prompt tokens, trimmed to the limit by the context builder; None if it cannot fit."""
        from swe_srl.context import TokenCounter, trim_messages

        counter = TokenCounter(self._tokenizer)
        if counter.messages(messages) > self.prompt_limit:
            messages, report = trim_messages(messages, self.prompt_limit, counter)
            if not report.fits:
                return None
        text = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self._tokenizer(text, add_special_tokens=False)["input_ids"]

    def _run_episodes(self, inputs: list[dict]) -> list[EpisodeRecord]:
        """One episode per input row, turns generated in lockstep with every other process."""
        from swe_srl.context import build_messages

        records = [EpisodeRecord(i) for i in range(len(inputs))]
        batcher = TurnBatcher(len(inputs), build_messages)
        threads = [
            threading.Thread(
                target=run_episode_thread,
                args=(r, self._env(r.index), batcher.policy(r.index), self.tasks[row["instance_id"]]),
                kwargs={"max_turns": self.rlvr.max_turns, "on_end": lambda i=r.index: batcher.finish(i)},
                daemon=True,
            )
            for r, row in zip(records, inputs, strict=True)
        ]
        for thread in threads:
            thread.start()
        while True:
            waiting = batcher.next_batch()
            prompts = {i: self._prompt_ids(m) for i, m in waiting.items()}
            fits = {i: ids for i, ids in prompts.items() if ids is not None}
            # Every process takes the same turns and generates the same number of prompts (filler
            # rows pad the batch): generation is a collective on sharded models and in server mode.
            alive, width = self._max_over_processes([len(waiting), len(fits)])
            if alive == 0:
                break
            replies: dict[int, str | None] = {i: None for i in prompts if i not in fits}
            if width:
                order = list(fits)
                filler = [[self._tokenizer.eos_token_id]] * (width - len(order))
                completions, logprobs = self._generate_single_turn(
                    [fits[i] for i in order] + filler, None, {}, 1
                )
                for k, i in enumerate(order):
                    ids = list(completions[k])
                    sampled = list(logprobs[k]) if logprobs is not None else None
                    records[i].turns.append(Turn(fits[i], ids, sampled))
                    replies[i] = self._tokenizer.decode(ids, skip_special_tokens=True)
            batcher.answer(replies)
        for thread in threads:
            thread.join()
        return records

    def _max_over_processes(self, values: list[int]) -> list[int]:
        if self.accelerator.num_processes == 1:
            return values
        tensor = torch.tensor([values], device=self.accelerator.device)
        return [int(v) for v in self.accelerator.gather(tensor).max(dim=0).values.tolist()]

    def _reward(self, record: EpisodeRecord) -> float:
        if record.reward is None or record.trajectory is None:
            return math.nan
        shaping = 0.0
        if self.rlvr.step_reward_weight > 0:
            expert = self.experts.get(record.trajectory.instance_id, [])
            shaping = self.rlvr.step_reward_weight * step_shaping(record.trajectory, expert)
        return record.reward + shaping

    def _sample_round(self, inputs) -> tuple[list[dict], int, int]:
        records = self._run_episodes(inputs)
        local = torch.tensor([self._reward(r) for r in records], device=self.accelerator.device)
        rewards = self.accelerator.gather(local).tolist()
        advantages, keep = group_advantages(rewards, self.num_generations, self.dynamic_epsilon)
        offset = self.accelerator.process_index * len(inputs)
        rows = []
        for record in records:
            index = offset + record.index
            if keep[index // self.num_generations] and not math.isnan(rewards[index]):
                rows += [self._turn_row(turn, advantages[index]) for turn in record.turns]
        self._log_episodes(records, rewards)
        return rows, len(keep), sum(keep)

    def _turn_row(self, turn, advantage: float) -> dict:
        row = {
            "prompt_ids": torch.tensor([turn.prompt_ids]),
            "prompt_mask": torch.ones(1, len(turn.prompt_ids), dtype=torch.long),
            "completion_ids": torch.tensor([turn.completion_ids]),
            "completion_mask": torch.ones(1, len(turn.completion_ids), dtype=torch.long),
            "advantages": torch.tensor([advantage]),
        }
        if turn.logprobs is not None:
            row["sampling_per_token_logps"] = torch.tensor([turn.logprobs], dtype=torch.float32)
        return row

    def _log_episodes(self, records: list[EpisodeRecord], rewards: list[float]) -> None:
        scored = [r for r in rewards if not math.isnan(r)]
        local_resolved = sum(1 for r in records if r.trajectory is not None and r.trajectory.resolved)
        counts = torch.tensor(
            [
                len(records),
                local_resolved,
                sum(len(r.turns) for r in records),
                sum(bool(r.failure) for r in records),
            ],
            device=self.accelerator.device,
            dtype=torch.float32,
        )
        episodes, solved, turns, masked = self.accelerator.gather(counts).view(-1, 4).sum(dim=0).tolist()
        metrics = self._metrics["train"]
        metrics["reward"].append(sum(scored) / len(scored) if scored else math.nan)
        metrics["rlvr/resolved_rate"].append(solved / episodes)
        metrics["rlvr/turns_per_episode"].append(turns / episodes)
        metrics["rlvr/masked_episodes"].append(masked)
        self.episodes_run += len(records)
        self.episodes_resolved += local_resolved
        for record in records:
            if record.failure:
                print(f"rlvr: episode masked ({record.failure})", flush=True)


def run_rlvr(config: TrainConfig, out: str | Path, *, resume: bool = False) -> RlvrResult:
    """Train with RLVR in SweEnv; ``rlvr.init`` (a checkpoint) replaces ``model.path`` when set."""
    from swe_srl.tasks import load_tasks
    from swe_srl.train.common import peft_config
    from swe_srl.train.data import prompt_limit
    from swe_srl.train.devdata import default_sources
    from swe_srl.train.session import run_training

    rlvr = config.rlvr
    tasks = load_tasks(rlvr.tasks)
    experts = expert_actions_by_task(default_sources()) if rlvr.step_reward_weight > 0 else {}
    built: list[RlvrTrainer] = []

    def build(ctx):
        trl = config.rlvr.trl
        context = trl.get("vllm_max_model_length") if trl.get("use_vllm") else None
        limit = prompt_limit(
            config.data, ctx.tokenizer, ctx.model.config, int(trl["max_completion_length"]), context
        )
        trainer = RlvrTrainer(
            model=ctx.model,
            reward_funcs=[resolved],
            args=ctx.args,
            train_dataset=task_dataset(tasks),
            processing_class=ctx.tokenizer,
            peft_config=peft_config(config.lora, for_vllm=bool(ctx.args.use_vllm)),
            callbacks=ctx.callbacks,
            dynamic_epsilon=rlvr.dynamic_sampling_epsilon if rlvr.dynamic_sampling else -1.0,
            dynamic_max_rounds=rlvr.dynamic_sampling_max_rounds if rlvr.dynamic_sampling else 1,
            tasks=tasks,
            rlvr=rlvr,
            experts=experts,
            prompt_limit=limit,
        )
        built.append(trainer)
        return trainer

    try:
        outcome = run_training("rlvr", config, out, build, resume=resume, model_path=rlvr.init)
    finally:
        for trainer in built:
            trainer.close_envs()
    trainer = built[0]
    episodes, solved = trainer.episodes_run, trainer.episodes_resolved
    return RlvrResult(
        outcome.run,
        outcome.final_model,
        episodes,
        solved / episodes if episodes else 0.0,
        outcome.interrupted,
        outcome.global_step,
    )
