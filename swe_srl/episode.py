"""The agent loop: a :class:`Policy` acting in a :class:`~swe_srl.env.SweEnv` until the episode ends.

``run_episode`` is the one place where a policy meets the environment: it asks the policy for a
reply, steps the environment with it, and records every round as a :class:`~swe_srl.records.Step`
of the returned :class:`~swe_srl.records.Trajectory`. The episode ends when the environment says so
(``terminated`` on submit, ``truncated`` at a step or time limit), so limits live in one place.

``ScriptedPolicy`` replays fixed replies in order: the deterministic model of tests and demos.
``run_sample_episode`` fixes the bundled sample task with a scripted policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import gymnasium as gym

from swe_srl.records import Action, Step, Task, Trajectory

if TYPE_CHECKING:
    from swe_srl.env import Grader

SOURCE_FORMAT = "swe-srl"


@runtime_checkable
class Policy(Protocol):
    """Anything that writes the next model reply for a task given the rounds so far."""

    name: str

    def act(self, problem_statement: str, history: list[Step]) -> str: ...


class ScriptEndedError(RuntimeError):
    """A :class:`ScriptedPolicy` was asked for more replies than its script holds."""


class ScriptedPolicy:
    """Returns the replies of a fixed script in order, one per call (ignores what it observes)."""

    def __init__(self, replies: Sequence[str], name: str = "scripted"):
        self.replies = list(replies)
        self.name = name
        self._next = 0

    def reset(self) -> None:
        """Start the script again from its first reply."""
        self._next = 0

    def act(self, problem_statement: str, history: list[Step]) -> str:
        if self._next >= len(self.replies):
            raise ScriptEndedError(f"{self.name}: the script has only {len(self.replies)} replies")
        reply = self.replies[self._next]
        self._next += 1
        return reply


def run_episode(
    env: gym.Env,
    policy: Policy,
    task: Task | str | None = None,
    max_steps: int | None = None,
    *,
    seed: int | None = None,
) -> Trajectory:
    """Run ``policy`` on ``task`` (or the env's pick) until the episode ends; return the trajectory.

    ``max_steps`` overrides the environment's step limit for this episode. ``resolved`` is the
    grader's verdict when the environment has a grader, else None.
    """
    options: dict[str, Any] = {}
    if task is not None:
        options["task"] = task
    if max_steps is not None:
        options["max_steps"] = max_steps
    _, reset_info = env.reset(seed=seed, options=options)
    current = env.unwrapped.task
    steps: list[Step] = []
    terminated = truncated = False
    reward, info = 0.0, dict(reset_info)
    while not (terminated or truncated):
        reply = policy.act(current.problem_statement, list(steps))
        observation, reward, terminated, truncated, info = env.step(reply)
        steps.append(_record_step(reply, observation, info))
    return Trajectory(
        instance_id=current.instance_id,
        source_format=SOURCE_FORMAT,
        model=policy.name,
        problem_statement=current.problem_statement,
        steps=steps,
        final_patch=info.get("patch", ""),
        resolved=info.get("resolved"),
        metadata={
            "exit_status": info.get("exit_status", ""),
            "reward": float(reward),
            "elapsed": info.get("elapsed", 0.0),
            "sandbox": reset_info.get("sandbox", ""),
        },
    )


def _record_step(reply: str, observation: str, info: dict[str, Any]) -> Step:
    action = info.get("action")
    exit_code = info.get("exit_code")
    ran = not info.get("parse_error") and isinstance(exit_code, int) and exit_code >= 0
    return Step(
        thought=info.get("thought", ""),
        action=action if isinstance(action, Action) else Action(tool="", args={}),
        observation=observation,
        duration=info.get("duration"),
        raw_action=str(reply),
        exit_code=exit_code if ran else None,  # -1 in info means no command ran
        metadata=dict(getattr(reply, "metadata", None) or {}),
    )


# ---------------------------------------------------------------------------------------------
# The sample task, fixed by a script (tests, README demo, ``swe-srl`` CLI)

SAMPLE_INSTANCE_ID = "swe-srl__durata-1"

_BUGGY_COMPONENT = r'_COMPONENT = re.compile(r"\s*([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)\s*([A-Za-z]+)\s*,?")'
_CLEAN_COMPONENT = r'_COMPONENT = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]+)\s*,?")'
_REPRODUCE = (
    "cd /testbed && python3 -c 'from durata import parse_duration as p; "
    'print(p("-5m"), p("-1h30m"), p("-2 days, 4 hours"))\''
)


def _call(tool: str, **args: str) -> str:
    lines = [f"<function={tool}>"]
    for name, value in args.items():
        block = name in ("old_str", "new_str", "file_text")
        lines.append(f"<parameter={name}>" + (f"\n{value}\n" if block else value) + "</parameter>")
    return "\n".join([*lines, "</function>"])


SAMPLE_FIX_SCRIPT: tuple[str, ...] = (
    "Let me look at the repository layout first.\n\n" + _call("bash", command="ls /testbed /testbed/durata"),
    "The parser lives in durata/parser.py; let me read it.\n\n"
    + _call("str_replace_editor", command="view", path="/testbed/durata/parser.py"),
    "Let me reproduce the issue.\n\n" + _call("bash", command=_REPRODUCE),
    "Only the first component gets the sign: the component path re-parses the signed text. "
    "Parse the unsigned body instead and apply the sign to the total.\n\n"
    + _call(
        "str_replace_editor",
        command="str_replace",
        path="/testbed/durata/parser.py",
        old_str="        return _parse_components(stripped, text)",
        new_str="        seconds = _parse_components(body, text)",
    ),
    "Components must not carry their own sign any more.\n\n"
    + _call(
        "str_replace_editor",
        command="str_replace",
        path="/testbed/durata/parser.py",
        old_str=_BUGGY_COMPONENT,
        new_str=_CLEAN_COMPONENT,
    ),
    "Check the reproduction and the existing tests.\n\n"
    + _call("bash", command=_REPRODUCE + " && python3 -m pytest -q -p no:cacheprovider tests"),
    "The fix works and the tests pass.\n\n" + _call("submit"),
)


def sample_task() -> Task:
    """The bundled sample task (``envs/sample``)."""
    from swe_srl.tasks import load_tasks

    return next(t for t in load_tasks("sample") if t.instance_id == SAMPLE_INSTANCE_ID)


def run_sample_episode(sandbox_kind: str = "local", grader: Grader | None = None) -> Trajectory:
    """Fix the sample task with :data:`SAMPLE_FIX_SCRIPT` in a ``sandbox_kind`` sandbox."""
    from swe_srl.env import SweEnv

    env = SweEnv(task=sample_task(), sandbox=sandbox_kind, max_steps=len(SAMPLE_FIX_SCRIPT), grader=grader)
    try:
        return run_episode(env, ScriptedPolicy(SAMPLE_FIX_SCRIPT, name="scripted-sample-fix"))
    finally:
        env.close()
