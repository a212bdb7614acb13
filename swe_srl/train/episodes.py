"""RLVR episodes: many agent loops at once, each turn's replies generated in one batch by the trainer.

Every episode runs the project's one agent loop (``swe_srl.episode.run_episode``) in its own thread,
so the student sees exactly what evaluation shows it: ``build_messages`` (system prompt with the
three tools and the XML reply format, the issue, the last rounds), and ``SweEnv`` parses the reply
with the same parser. The policy of each loop is a :class:`TurnBatcher` seat: ``act`` hands the
messages to the batcher and waits for the reply. The trainer's thread asks the batcher for the
prompts of all episodes waiting, generates them in one batch (vLLM or ``generate``, through TRL) and
answers. Sandbox commands and the grading of finished episodes run in the episode threads, so
they overlap one another.

An episode that fails for a reason outside the model (a sandbox or grader error, an issue too long
for the context) gets the reward ``None``: it is masked from training, never scored 0. A prompt that
outgrows the context later in the episode is the model's doing: the patch so far is graded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from swe_srl.engine.taxonomy import is_infrastructure_error
from swe_srl.records import Step, Task, Trajectory


class ContextOverflowError(RuntimeError):
    """The first prompt of an episode (the task alone) does not fit the model's context."""


# A later turn's prompt that no longer fits ends the episode the way eval ends it (SWE-agent's
# exit_context): the patch so far is submitted and graded. The model's own rounds filled the window,
# so the outcome is its own; masking it would let a policy trade a low reward for no signal by
# growing its context. This reply is not one of the model's turns (no tokens are trained on).
CONTEXT_FULL_SUBMIT = (
    "<think>The context window is full: submitting the patch so far.</think>\n<function=submit>\n</function>"
)


@dataclass
class Turn:
    """One model reply of an episode, as the trainer needs it for the loss."""

    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float] | None = None


@dataclass
class EpisodeRecord:
    """What one episode produced: its turns, trajectory and reward (None: masked, not the model's fault)."""

    index: int
    turns: list[Turn] = field(default_factory=list)
    trajectory: Trajectory | None = None
    reward: float | None = None
    failure: str = ""  # why the episode is masked ("" when it was scored)


class _LastInfo(gym.Wrapper):
    """Keeps the info dict of the last step (the grader's result lives there)."""

    def __init__(self, env):
        super().__init__(env)
        self.last_info: dict[str, Any] = {}

    def step(self, action):
        result = self.env.step(action)
        self.last_info = result[4]
        return result


def infrastructure_failure(info: dict[str, Any]) -> str:
    """Why a finished episode's outcome says nothing about the model ("" when it does).

    Only a grader error with an infrastructure cause (``swe_srl.engine.is_infrastructure_error``):
    tests that hang or crash under the model's patch are an ``error`` without a cause, the patch's
    failure, and scored; masking them would let a policy trade a 0 for no signal by hanging the tests.
    """
    result = info.get("eval")
    if result is not None and is_infrastructure_error(result):
        return f"grader error ({result.cause}): {result.reason or 'unknown'}"
    return ""


class TurnBatcher:
    """Seats for ``count`` episodes; the trainer collects waiting prompts and hands out replies."""

    def __init__(self, count: int, build: Callable[[str, list[Step]], list[dict]]):
        self.build = build
        self._cond = threading.Condition()
        self._waiting: dict[int, list[dict]] = {}
        self._replies: dict[int, str | None] = {}
        self._done: set[int] = set()
        self._count = count

    def policy(self, index: int):
        batcher = self

        class Seat:
            name = "rlvr-student"

            def act(self, problem_statement: str, history: list[Step]) -> str:
                reply = batcher._act(index, batcher.build(problem_statement, history))
                if reply is None and history:
                    return CONTEXT_FULL_SUBMIT  # the model's own rounds filled it: graded, as in eval
                if reply is None:
                    raise ContextOverflowError("the issue alone does not fit the model's context")
                return reply

        return Seat()

    def _act(self, index: int, messages: list[dict]) -> str | None:
        with self._cond:
            self._waiting[index] = messages
            self._cond.notify_all()
            self._cond.wait_for(lambda: index in self._replies)
            return self._replies.pop(index)

    def finish(self, index: int) -> None:
        with self._cond:
            self._done.add(index)
            self._cond.notify_all()

    def next_batch(self) -> dict[int, list[dict]]:
        """Block until every live episode waits for a reply or has ended; the waiting prompts by episode."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._waiting) + len(self._done) >= self._count)
            batch, self._waiting = self._waiting, {}
            return batch

    def answer(self, replies: dict[int, str | None]) -> None:
        """Replies by episode; ``None`` ends that episode as a context overflow."""
        with self._cond:
            self._replies.update(replies)
            self._cond.notify_all()


def run_episode_thread(
    record: EpisodeRecord,
    env: gym.Env,
    policy,
    task: Task,
    max_turns: int,
    on_end: Callable[[], None],
) -> None:
    """One agent loop in its own thread; the outcome (or the failure) lands in ``record``."""
    from swe_srl.episode import run_episode

    watched = _LastInfo(env)
    try:
        record.trajectory = run_episode(watched, policy, task=task, max_steps=max_turns)
        record.failure = infrastructure_failure(watched.last_info)
        if not record.failure:
            record.reward = float(record.trajectory.metadata.get("reward", 0.0))
    except ContextOverflowError as err:  # the task itself is too long for the model: not its doing
        record.failure = f"context: {err}"
    except Exception as err:  # a sandbox or engine failure: not the model's doing, so masked
        record.failure = f"{type(err).__name__}: {err}"
    finally:
        on_end()


def step_shaping(trajectory: Trajectory, expert: list[str]) -> float:
    """Mean SRL similarity of the episode's actions to the expert's at the same index (0 if none)."""
    from swe_srl.actions import render_action
    from swe_srl.reward import similarity

    pairs = list(zip(trajectory.steps, expert, strict=False))
    if not pairs:
        return 0.0
    return sum(similarity(render_action(step.action), e) for step, e in pairs) / len(pairs)


def group_advantages(rewards: list[float], group: int, epsilon: float) -> tuple[list[float], list[bool]]:
    """GRPO's group-normalised advantages (sample std, as TRL) and which groups have spread > epsilon.

    NaN rewards (masked episodes) are left out of their group's mean and std and get advantage 0.
    """
    import math

    from swe_srl.train.dynamic_sampling import group_stds

    advantages, keep = [], []
    for start, spread in zip(range(0, len(rewards), group), group_stds(rewards, group), strict=True):
        values = [r for r in rewards[start : start + group] if not math.isnan(r)]
        mean = sum(values) / len(values) if values else 0.0
        sample_std = (
            math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        )
        keep.append(spread > epsilon)
        for r in rewards[start : start + group]:
            advantages.append(0.0 if math.isnan(r) else (r - mean) / (sample_std + 1e-4))
    return advantages, keep
