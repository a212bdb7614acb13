"""RLVR: multi-turn GRPO inside SweEnv, rewarded by whether the final patch resolves the task.

TRL's ``environment_factory`` drives the episodes: for every rollout it takes a ``SweToolEnv`` from
a pool, calls ``reset(**row)`` with the dataset row (which names the task), lets the model call the
environment's public methods as tools (``bash``, ``str_replace_editor``, ``submit``: the same
tools, backed by our sandbox and executor through ``SweEnv.step``), and at the end asks
``get_reward()``. The reward is 1.0 when the grader resolves the episode's patch (an episode the
model did not submit is submitted for it), plus, when ``rlvr.step_reward_weight`` > 0 and the task
has an expert trajectory, that weight times the mean SRL similarity of the episode's actions to the
expert's actions at the same step index (per-step shaping).

A rollout that failed for infrastructure reasons (its sandbox did not start or died, its task's
repository could not be prepared, the grader could not run: ``swe_srl.engine.taxonomy``) is masked,
never scored 0: ``get_reward()`` returns None, which TRL's GRPO treats as unscorable (left out of the
group's baseline, advantage 0) and dynamic sampling ignores. Tests that hang or crash under the
model's patch are the patch's failure and scored as usual.

``--init CHECKPOINT`` starts from an SRL run's model: the SRL -> RLVR curriculum. The loop:

    config -> tasks -> dataset (one row per task prompt) -> GRPO trainer with environment_factory
    -> train -> save RUN/final, metrics, curves

Tool calls are parsed by transformers' response parser: our chat format writes a call as the
SWE-smith XML block, so ``SWE_RESPONSE_TEMPLATE`` teaches the parser that block (the same shape as
TRL's Qwen3.5 template without the ``<tool_call>`` wrapper) when the tokenizer has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.engine.taxonomy import is_infrastructure_error
from swe_srl.records import Action, Task
from swe_srl.train.config import RlvrConfig, TrainConfig

TOOL_ARG_PATTERN = r"<parameter=(?P<key>[^>\n]+)>\s*(?P<value>.*?)\s*</parameter>"


def swe_response_template() -> dict[str, Any]:
    """transformers response-parsing spec for ``<think>..</think>`` + ``<function=NAME>`` XML calls."""
    from trl.chat_template_utils import _XML_INLINE_VALUE_PARSER

    return {
        "defaults": {"role": "assistant"},
        "start_anchor": "<|im_start|>assistant\n",
        "fields": {
            "reasoning_content": {"open": "<think>", "close_pattern": r"</think>\s*", "content": "text"},
            "tool_calls": {
                "open_pattern": r"<function=(?P<name>[^\n>]+)>",
                "close_pattern": r"</function>\s*",
                "repeats": True,
                "content": "xml-inline",
                "content_args": {"tag_pattern": TOOL_ARG_PATTERN, "value_parser": _XML_INLINE_VALUE_PARSER},
                "transform": {"type": "function", "function": {"name": "{name}", "arguments": "{content}"}},
            },
            "content": {"close_pattern": r"<\|im_end\|>\s*", "content": "text"},
        },
    }


@dataclass(frozen=True)
class RlvrResult:
    """What an RLVR run produced."""

    run: Path
    final_model: Path
    episodes: int
    resolved_rate: float  # share of the scored training episodes whose patch resolved the task
    masked: int = 0  # episodes masked (not scored) because the infrastructure failed


def expert_actions_by_task(sources: list[Path]) -> dict[str, list[str]]:
    """Canonical expert actions per instance id, from trajectory files (for per-step shaping)."""
    from swe_srl.actions import render_action
    from swe_srl.trajectories.importers import import_paths

    found: dict[str, list[str]] = {}
    for traj in import_paths([str(p) for p in sources]):
        found.setdefault(traj.instance_id, [render_action(step.action) for step in traj.steps])
    return found


class SweToolEnv:
    """One SweEnv episode per rollout; its public methods are the agent's tools (TRL's protocol)."""

    def __init__(self, tasks: list[Task], rlvr: RlvrConfig, experts: dict[str, list[str]] | None = None):
        from swe_srl.env import SweEnv
        from swe_srl.eval.grader import SandboxGrader

        self.env = SweEnv(
            tasks=tasks,
            sandbox=rlvr.sandbox,
            max_steps=rlvr.max_turns,
            step_timeout=rlvr.command_timeout,
            grader=SandboxGrader(rlvr.sandbox),
            diff_every_step=False,
        )
        self.shaping_weight = rlvr.step_reward_weight
        self.experts = experts or {}
        self.actions: list[Action] = []
        self.outcome: float | None = None
        self.masked_cause = ""  # the infrastructure cause that ended this rollout ("" when none)
        self.episodes = 0
        self.resolved = 0
        self.masked = 0

    def reset(self, **row: Any) -> str | None:
        """Start the episode of the row's task; the prompt already holds the task, so add nothing."""
        self.actions, self.outcome, self.masked_cause = [], None, ""
        try:
            self.env.reset(options={"task": row["instance_id"]})
        except Exception as err:
            self.masked_cause = _infrastructure_cause(err)
        return None

    def _act(self, action: Action) -> str:
        if self.masked_cause:
            return f"The environment is unavailable ({self.masked_cause}); this episode is not scored."
        if self.outcome is not None:
            return "The episode is over: the changes were already submitted."
        self.actions.append(action)
        try:
            observation, reward, terminated, truncated, info = self.env.step(action)
        except Exception as err:
            self.masked_cause = _infrastructure_cause(err)
            return f"The environment failed ({self.masked_cause}); this episode is not scored."
        if terminated or truncated:
            self.outcome = reward
            if is_infrastructure_error(info.get("eval")):
                self.masked_cause = info["eval"].cause
        return observation

    def bash(self, command: str) -> str:
        """Run a bash command in the repository's shell. State (cwd, variables) persists between calls.

        Args:
            command: The bash command to run.
        """
        return self._act(Action("bash", {"command": command}))

    def str_replace_editor(
        self,
        command: str,
        path: str,
        file_text: str | None = None,
        old_str: str | None = None,
        new_str: str | None = None,
        insert_line: int | None = None,
        view_range: list[int] | None = None,
    ) -> str:
        """View, create and edit files: view, create, str_replace, insert or undo_edit.

        Args:
            command: One of view, create, str_replace, insert, undo_edit.
            path: Absolute path to a file or directory, e.g. /testbed/file.py.
            file_text: Required for create: the content of the file.
            old_str: Required for str_replace: the exact text to replace.
            new_str: For str_replace the new text; required for insert.
            insert_line: Required for insert: new_str goes after this line.
            view_range: Optional for view of a file: [start, end], end -1 for the end.
        """
        optional = {
            "file_text": file_text,
            "old_str": old_str,
            "new_str": new_str,
            "insert_line": insert_line,
            "view_range": view_range,
        }
        args = {"command": command, "path": path, **{k: v for k, v in optional.items() if v is not None}}
        return self._act(Action("str_replace_editor", args))

    def submit(self) -> str:
        """Submit the current changes (the repository's diff) as the solution and end the episode."""
        return self._act(Action("submit", {}))

    def get_reward(self) -> float | None:
        """Resolved (1.0) or not (0.0), submitting for the model if it stopped early; plus shaping.
        None (masked) when the rollout failed for infrastructure reasons."""
        if self.outcome is None and not self.masked_cause:
            self.submit()
        self.episodes += 1
        if self.masked_cause:
            self.masked += 1
            return None
        outcome = float(self.outcome or 0.0)
        self.resolved += int(outcome >= 1.0)
        return outcome + self.shaping_weight * self.step_shaping()

    def step_shaping(self) -> float:
        """Mean SRL similarity of the episode's actions to the expert's at the same index (0 if none)."""
        from swe_srl.actions import render_action
        from swe_srl.reward import similarity

        expert = self.experts.get(self.env.task.instance_id if self.env.task else "", [])
        pairs = list(zip(self.actions, expert, strict=False))
        if not pairs:
            return 0.0
        return sum(similarity(render_action(a), e) for a, e in pairs) / len(pairs)


def _infrastructure_cause(err: Exception) -> str:
    """The cause of an infrastructure failure (the rollout is then masked); anything else is raised."""
    from swe_srl.engine.taxonomy import InfrastructureError, classify
    from swe_srl.sandbox import SandboxError, WorkspaceError

    if not isinstance(err, InfrastructureError | SandboxError | WorkspaceError):
        raise err
    return classify(err, "sandbox")


def task_dataset(tasks: list[Task]):
    """One row per task: its prompt (the context before the first action) and its instance id."""
    from datasets import Dataset

    from swe_srl.context import build_messages

    return Dataset.from_list(
        [{"prompt": build_messages(t.problem_statement, []), "instance_id": t.instance_id} for t in tasks]
    )


def _trainer(config: TrainConfig, paths, model, tokenizer, tasks: list[Task], make_env):
    """GRPO over the task prompts with SweToolEnv episodes (dynamic sampling when configured)."""
    from trl import GRPOTrainer

    from swe_srl.train.common import peft_config
    from swe_srl.train.dynamic_sampling import DynamicSamplingGRPOTrainer
    from swe_srl.train.metrics import JsonlLogCallback
    from swe_srl.train.srl import grpo_args

    rlvr = config.rlvr
    kwargs = dict(
        model=model,
        reward_funcs=[],
        args=grpo_args(rlvr, config, paths, max_tool_calling_iterations=rlvr.max_turns),
        train_dataset=task_dataset(tasks),
        processing_class=tokenizer,
        peft_config=peft_config(config.lora),
        callbacks=[JsonlLogCallback(paths.metrics)],
        environment_factory=make_env,
    )
    if rlvr.dynamic_sampling:
        return DynamicSamplingGRPOTrainer(
            **kwargs,
            dynamic_epsilon=rlvr.dynamic_sampling_epsilon,
            dynamic_max_rounds=rlvr.dynamic_sampling_max_rounds,
        )
    return GRPOTrainer(**kwargs)


def run_rlvr(config: TrainConfig, out: str | Path, *, resume: bool = False) -> RlvrResult:
    """Train with RLVR in SweEnv; ``rlvr.init`` (a checkpoint) replaces ``model.path`` when set."""

    from swe_srl.tasks import load_tasks
    from swe_srl.train.common import (
        latest_checkpoint,
        load_model_and_tokenizer,
        prepare_run,
        save_final,
    )
    from swe_srl.train.devdata import default_sources
    from swe_srl.train.interrupt import graceful_stop
    from swe_srl.train.plots import plot_run

    rlvr = config.rlvr
    paths = prepare_run(out, config)
    model, tokenizer = load_model_and_tokenizer(config.model, rlvr.init)
    if (
        getattr(tokenizer, "response_template", None) is None
        and getattr(tokenizer, "response_schema", None) is None
    ):
        tokenizer.response_template = swe_response_template()
    tasks = load_tasks(rlvr.tasks)
    experts = expert_actions_by_task(default_sources()) if rlvr.step_reward_weight > 0 else {}
    envs: list[SweToolEnv] = []

    def make_env() -> SweToolEnv:
        envs.append(SweToolEnv(tasks, rlvr, experts))
        return envs[-1]

    trainer = _trainer(config, paths, model, tokenizer, tasks, make_env)
    try:
        with graceful_stop(trainer) as stop:
            trainer.train(resume_from_checkpoint=latest_checkpoint(paths.root) if resume else None)
    finally:
        for env in envs:
            env.env.close()
    stop.check(paths.root)
    final = save_final(trainer, tokenizer, paths)
    plot_run(paths.root)
    episodes = sum(e.episodes for e in envs)
    masked = sum(e.masked for e in envs)
    scored = episodes - masked
    resolved = sum(e.resolved for e in envs)
    return RlvrResult(paths.root, final, episodes, resolved / scored if scored else 0.0, masked)
