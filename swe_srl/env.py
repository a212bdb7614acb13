"""``SweEnv``: a SWE task as a Gymnasium environment (registered as ``swe_srl/SWE-v0``).

An episode is one attempt at one task. ``reset`` puts the task repository at ``/testbed`` in a
sandbox (bubblewrap or Docker) and returns the task message (``swe_srl.context.task_message``: the
issue in ``<issue>`` tags); each ``step`` takes one model reply (or one tool call) and returns what
the tool printed. With ``context=ContextConfig(...)`` the env also puts in ``info["messages"]`` the
chat a policy reads before its next action, built by ``swe_srl.context.build_messages`` from the
episode so far: exactly the messages of the agent loop, the SRL step instances and the policies.
Submitting ends the episode (``terminated``); the step and wall-clock limits cut it short
(``truncated``). The reward is the outcome reward of RLVR:
0 on every step, and at the episode's end 1.0 if a pluggable :class:`Grader` says the final patch
resolves the task, else 0.0 (always 0.0 without a grader).

Bad model output never raises: a reply without a usable action yields an observation that explains
the expected format, counts as a step, and the episode goes on.

``gymnasium.make("swe_srl/SWE-v0", task=..., sandbox="local")`` works after ``import swe_srl.env``;
``gymnasium.make("swe_srl.env:swe_srl/SWE-v0", ...)`` imports the module itself. (Gymnasium 1.x no
longer loads ``gymnasium.envs`` entry points; the one in pyproject.toml names ``register_envs`` for
tools that still read it.)
"""

from __future__ import annotations

import contextlib
import string
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import gymnasium as gym
from gymnasium import spaces

from swe_srl.actions import ActionParseError, parse_completion, validate_action
from swe_srl.context import ContextConfig, build_messages, task_message
from swe_srl.records import Action, EvalResult, Step, Task
from swe_srl.sandbox.base import BrokenRepository, Sandbox, SandboxError

ENV_ID = "swe_srl/SWE-v0"
MAX_TEXT_LENGTH = 2_000_000  # characters in one observation or action; tool outputs are capped far below
DEFAULT_MAX_STEPS = 50
# Seconds per command: SWE-smith's execution_timeout, so a timeout reads as its experts saw it.
DEFAULT_STEP_TIMEOUT = 300.0
PARSE_ERROR_TOOL = "parse_error"  # the Action recorded for a reply that held no usable action


class Grader(Protocol):
    """Decides whether a patch resolves a task (SWE-bench semantics: every F2P and P2P test passes)."""

    def grade(self, task: Task, patch: str) -> EvalResult: ...


SandboxFactory = Callable[[Task], Sandbox]


class UnicodeText(spaces.Text):
    """A ``Text`` space whose members are all strings up to ``max_length``, in any characters.

    Observations are tool output and actions are model text, so any Unicode character can occur.
    ``sample`` draws from printable ASCII (the listed charset), enough to exercise the parser.
    """

    def __init__(self, max_length: int = MAX_TEXT_LENGTH, **kwargs: Any):
        super().__init__(max_length, min_length=0, charset=string.printable, **kwargs)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is None and probability is None:  # keep samples short: a reply, not a novel
            mask = (int(self.np_random.integers(0, 200)), None)
        return super().sample(mask=mask, probability=probability)


def task_prompt(task: Task) -> str:
    """The first observation of an episode: the task message of the context (the issue in tags)."""
    return task_message(task.problem_statement)


def _resolve_tasks(task: Task | str | None, tasks: Sequence[Task] | str | None) -> list[Task]:
    """The episode pool from ``task`` (one) or ``tasks`` (several); the ``sample`` suite by default."""
    if isinstance(task, Task):
        return [task]
    if isinstance(task, str):
        suite, sep, instance_id = task.rpartition(":")
        if not sep:
            raise ValueError(f"task {task!r}: expected 'suite:instance_id' or a Task")
        return [_find(_load_suite(suite), instance_id)]
    if task is not None:
        raise TypeError(f"task must be a Task or 'suite:instance_id', got {type(task).__name__}")
    if tasks is None:
        tasks = "sample"
    pool = _load_suite(tasks) if isinstance(tasks, str) else list(tasks)
    if not pool or not all(isinstance(t, Task) for t in pool):
        raise ValueError("tasks must be a non-empty list of Task records or a suite name")
    return pool


def _load_suite(spec: str) -> list[Task]:
    from swe_srl.tasks import load_tasks  # lazily: the loader pulls in the sandbox's git helpers

    return list(load_tasks(spec))


def _find(pool: Sequence[Task], instance_id: str) -> Task:
    for candidate in pool:
        if candidate.instance_id == instance_id:
            return candidate
    known = ", ".join(t.instance_id for t in pool[:10])
    raise ValueError(f"no task with instance_id {instance_id!r} (known: {known})")


def _default_factory(kind: str) -> SandboxFactory:
    if kind not in ("local", "docker"):
        raise ValueError(f"sandbox must be 'local', 'docker' or a factory, got {kind!r}")

    def make(task: Task) -> Sandbox:
        from swe_srl.sandbox import make_sandbox

        return make_sandbox(kind, task)

    return make


def _to_action(action: str | dict | Action) -> tuple[Action, str]:
    """(the action, the monologue) from a model reply, a ``{"tool", "args"}`` dict or an Action.

    Raises ``ActionParseError`` with a message for the model when there is no valid action, the
    reply is longer than :data:`MAX_TEXT_LENGTH` (never parsed: the action space's own bound), or it
    is not text.
    """
    size = _text_size(action)
    if size > MAX_TEXT_LENGTH:
        raise ActionParseError(
            f"Your reply is too long ({size} characters; the limit is {MAX_TEXT_LENGTH}). Nothing was "
            "run: reply with one shorter action (write large files in several steps)."
        )
    if isinstance(action, str):
        parsed = parse_completion(action)
        # Monologue text goes into logs; a lone surrogate there would break every UTF-8 writer.
        result, thought = parsed.action, parsed.thought.encode("utf-8", "replace").decode("utf-8")
    elif isinstance(action, Action):
        result, thought = action, ""
    elif isinstance(action, dict):
        if not isinstance(action.get("tool"), str) or not isinstance(action.get("args", {}), dict):
            raise ActionParseError('An action dict needs a "tool" string and an "args" object.')
        result, thought = Action.from_dict(action), ""
    else:
        raise ActionParseError(f"An action must be text, a dict or an Action, not {type(action).__name__}.")
    validate_action(result)
    return result, thought


def _text_size(action: object) -> int:
    """Characters of a reply, or of an action's arguments (what the parser and the tools would read)."""
    if isinstance(action, str):
        return len(action)
    args = (
        action.args
        if isinstance(action, Action)
        else action.get("args")
        if isinstance(action, dict)
        else None
    )
    if not isinstance(args, dict):
        return 0
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in args.values())


class _Episode:
    """Mutable state of the episode in progress."""

    def __init__(self, task: Task, max_steps: int, max_seconds: float | None):
        self.task = task
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.started = time.monotonic()
        self.steps = 0
        self.patch = ""
        self.done = False
        self.history: list[Step] = []  # the rounds so far, as a policy's context shows them

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def time_left(self) -> float | None:
        return None if self.max_seconds is None else self.max_seconds - self.elapsed()


class SweEnv(gym.Env[str, str]):
    """One SWE task per episode: observations and actions are text, the reward is the outcome."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's class attribute)

    def __init__(
        self,
        task: Task | str | None = None,
        tasks: Sequence[Task] | str | None = None,
        sandbox: str | SandboxFactory = "local",
        max_steps: int = DEFAULT_MAX_STEPS,
        max_seconds: float | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        grader: Grader | None = None,
        render_mode: str | None = None,
        diff_every_step: bool = True,
        context: ContextConfig | None = None,
    ):
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        if step_timeout <= 0 or (max_seconds is not None and max_seconds <= 0):
            raise ValueError("step_timeout and max_seconds must be positive")
        self.tasks = _resolve_tasks(task, tasks)
        self.sandbox_kind = sandbox if isinstance(sandbox, str) else getattr(sandbox, "__name__", "custom")
        self._factory = _default_factory(sandbox) if isinstance(sandbox, str) else sandbox
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.step_timeout = step_timeout
        self.grader = grader
        self.render_mode = render_mode
        # info["patch"] after every step costs one `git diff` (~15 ms local, ~65 ms Docker); rollouts
        # that only need the final patch can turn it off.
        self.diff_every_step = diff_every_step
        # When set, info["messages"] carries the policy's next context (costs one prompt build a step).
        self.context = context
        self.observation_space = UnicodeText()
        self.action_space = UnicodeText()
        self._sandbox: Sandbox | None = None
        self._sandbox_task: Task | None = None
        self._episode: _Episode | None = None

    @property
    def task(self) -> Task | None:
        """The task of the current episode (None before the first reset)."""
        return self._episode.task if self._episode else None

    @property
    def sandbox(self) -> Sandbox | None:
        """The live sandbox of the current task (None before the first reset and after close)."""
        return self._sandbox

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Start an episode; ``options`` may name the task and override ``max_steps``/``max_seconds``.

        ``options={"task": Task | instance_id}`` picks the task; otherwise the task is drawn from the
        pool with the environment's seeded generator (always the same one for a pool of one).
        """
        super().reset(seed=seed)
        options = options or {}
        task = self._pick_task(options.get("task"))
        self._prepare_sandbox(task)
        self._episode = _Episode(
            task,
            max_steps=int(options.get("max_steps", self.max_steps)),
            max_seconds=options.get("max_seconds", self.max_seconds),
        )
        info = {
            "instance_id": task.instance_id,
            "sandbox": self.sandbox_kind,
            "max_steps": self._episode.max_steps,
        }
        self._add_messages(self._episode, info)
        return task_prompt(task), info

    def step(self, action: str | dict | Action) -> tuple[str, float, bool, bool, dict]:
        """Run one action; bad model output becomes an explanatory observation, never an exception."""
        episode = self._episode
        if episode is None or episode.done or self._sandbox is None:
            raise gym.error.ResetNeeded("call reset() before step() (and after an episode ends)")
        episode.steps += 1
        try:
            parsed, thought = _to_action(action)
        except ActionParseError as err:
            observation, info = str(err), self._info(episode, Action(PARSE_ERROR_TOOL), "", parse_error=True)
            terminated = False
        else:
            observation, info = self._execute(episode, parsed, thought)
            terminated = info["submitted"]
        observation = observation[:MAX_TEXT_LENGTH]
        episode.history.append(Step(thought=info["thought"], action=info["action"], observation=observation))
        limit = None if terminated else self._limit_reached(episode)
        truncated = limit is not None
        reward = 0.0
        if terminated or truncated:
            reward = self._finish(episode, info, limit or "submitted")
        self._add_messages(episode, info)
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        self._sandbox_task = self._episode = None
        try:
            if sandbox is not None:
                sandbox.close()
        finally:
            super().close()

    # -----------------------------------------------------------------------------------------

    def _pick_task(self, choice: Task | str | None) -> Task:
        if isinstance(choice, Task):
            return choice
        if isinstance(choice, str):
            return _find(self.tasks, choice)
        if choice is not None:
            raise TypeError(f"options['task'] must be a Task or an instance_id, got {type(choice).__name__}")
        if len(self.tasks) == 1:
            return self.tasks[0]
        return self.tasks[int(self.np_random.integers(len(self.tasks)))]

    def _prepare_sandbox(self, task: Task) -> None:
        """Reuse the sandbox for the same task (reset in place), make a new one for another task."""
        if self._sandbox is not None and self._sandbox_task == task:
            try:
                self._sandbox.reset()
                return
            except SandboxError:  # a dead shell or container: start a fresh sandbox below
                pass
        old, self._sandbox, self._sandbox_task = self._sandbox, None, None
        if old is not None:
            with contextlib.suppress(SandboxError):  # discarded anyway; a broken one may not close cleanly
                old.close()
        self._sandbox = self._factory(task)
        self._sandbox_task = task

    def _execute(self, episode: _Episode, action: Action, thought: str) -> tuple[str, dict]:
        from swe_srl.tools.executor import execute

        left = episode.time_left()
        timeout = self.step_timeout if left is None else max(1.0, min(self.step_timeout, left))
        result = execute(self._sandbox, action, timeout)
        if result.submitted and result.patch is not None:
            episode.patch = result.patch
        elif self.diff_every_step and not _is_view(action):
            episode.patch = self._diff()  # a view cannot change the tree: skip the git call
        info = self._info(
            episode,
            action,
            thought,
            exit_code=int(result.exit_code),
            timed_out=bool(result.timed_out),
            duration=float(result.duration),
            submitted=bool(result.submitted),
        )
        return result.observation, info

    def _diff(self) -> str:
        """The episode's patch so far: empty while the agent's ``.git`` is too broken for git to diff
        (the sandbox tells the agent with its next command)."""
        try:
            return self._sandbox.diff()
        except BrokenRepository:
            return ""

    def _info(
        self,
        episode: _Episode,
        action: Action,
        thought: str,
        *,
        parse_error: bool = False,
        exit_code: int = -1,
        timed_out: bool = False,
        duration: float = 0.0,
        submitted: bool = False,
    ) -> dict[str, Any]:
        """Per-step info; every key has one type in every step so vector envs can batch it."""
        return {
            "instance_id": episode.task.instance_id,
            "step": episode.steps,
            "action": action,
            "thought": thought,
            "parse_error": parse_error,
            "exit_code": exit_code,  # -1: no command ran (parse error)
            "timed_out": timed_out,
            "duration": duration,  # seconds the tool ran; 0.0 when nothing ran
            "submitted": submitted,
            "patch": episode.patch,
        }

    def _add_messages(self, episode: _Episode, info: dict[str, Any]) -> None:
        if self.context is not None:
            info["messages"] = build_messages(episode.task.problem_statement, episode.history, self.context)

    def _limit_reached(self, episode: _Episode) -> str | None:
        if episode.steps >= episode.max_steps:
            return "step_limit"
        left = episode.time_left()
        return "time_limit" if left is not None and left <= 0 else None

    def _finish(self, episode: _Episode, info: dict[str, Any], exit_status: str) -> float:
        """Close the episode: grade the final patch and return the outcome reward."""
        episode.done = True
        if exit_status != "submitted" and not self.diff_every_step:
            episode.patch = info["patch"] = self._diff()
        info["exit_status"] = exit_status
        info["elapsed"] = episode.elapsed()
        if self.grader is None:
            return 0.0
        result = self.grader.grade(episode.task, episode.patch)
        info["eval"] = result
        info["resolved"] = bool(result.resolved)
        return 1.0 if result.resolved else 0.0


def _is_view(action: Action) -> bool:
    return action.tool == "str_replace_editor" and action.args.get("command") == "view"


def register_envs() -> None:
    """Register ``swe_srl/SWE-v0`` with Gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        # Timing, tool durations and the machine make episodes nondeterministic in the checker's sense.
        gym.register(id=ENV_ID, entry_point="swe_srl.env:SweEnv", nondeterministic=True)


register_envs()
