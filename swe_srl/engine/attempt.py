"""One attempt at a task inside its budget: the agent loop in ``SweEnv``, then a fresh-sandbox grade.

The work of ``eval`` (e2e setting) and of every ``rollout`` attempt. Timeouts come out of the
task's budget: the agent's wall limit leaves room for grading (``--test-timeout`` plus
:data:`GRADE_OVERHEAD`) so a slow agent is truncated and graded, never turned into an
infrastructure ``timeout``; each command's timeout is cut to what is left. A sandbox that fails is
``sandbox``.

A policy's failures are split by whose they are (:func:`model_server_failure`): its model server
failing (``ModelServerError``: unreachable, died, 5xx after the retries; or a connection that broke
or timed out) is the ``model_server`` infrastructure cause, rerun by ``--retry-errors`` and masked
in rollouts. Any other failure is the model's (or its policy's): a prompt that outgrew the context
window (``ContextWindowError``), a request the server refused (4xx), an answer with no message, a
script that ran out. It ends the episode as SWE-agent's ``exit_context`` does: the patch so far is
graded, the trajectory's ``exit_status`` says why (``context_window`` or ``policy_error``) and the
result's reason quotes the error, so the task counts in the resolve rate and is scored.

A policy that reports what it used has ``usage() -> dict`` (``completion_tokens``,
``generation_seconds``, ...); it is added to the task's telemetry.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.engine.jobs import TaskContext
from swe_srl.engine.taxonomy import InfrastructureError, one_line
from swe_srl.policy.chat import ContextWindowError
from swe_srl.policy.errors import ModelServerError
from swe_srl.records import EvalResult, Step, Task, Trajectory

GRADE_OVERHEAD = 60.0  # seconds a grade needs besides its tests: a sandbox, the patch, the parse
DEFAULT_STEP_TIMEOUT = 120.0


@dataclass(frozen=True)
class AttemptSettings:
    """What one attempt depends on besides the task and the policy."""

    sandbox: str = "local"
    max_steps: int = 50
    time_limit: float | None = None  # the agent's wall limit (seconds)
    step_timeout: float = DEFAULT_STEP_TIMEOUT
    test_timeout: float = 300.0
    diff_every_step: bool = True
    keep_log: bool = False  # bring the grader's test log back with the outcome


@dataclass(frozen=True)
class AttemptOutcome:
    result: EvalResult
    trajectory: Trajectory | None = None
    test_log: str = ""  # the grader's test output (with ``keep_log``), for the driver to keep


def model_server_failure(err: BaseException) -> bool:
    """Whether a policy's exception is its model server failing (an infrastructure error), not the
    model's own failure. ``ConnectionError``/``TimeoutError`` cover backends that do not wrap them."""
    return isinstance(err, ModelServerError | ConnectionError | TimeoutError)


def ask_policy(name: str, call: Any, *args: Any) -> Any:
    """``call(*args)``, with a model server's failure raised as the ``model_server`` cause; any other
    exception passes through unchanged (the model's failure; the caller ends the episode)."""
    try:
        return call(*args)
    except InfrastructureError:
        raise
    except Exception as err:
        if model_server_failure(err):
            raise InfrastructureError(f"policy {name}: {one_line(err)}", "model_server") from err
        raise


def policy_exit_status(err: BaseException) -> str:
    """The ``exit_status`` of an episode the model's failure ended."""
    return "context_window" if isinstance(err, ContextWindowError) else "policy_error"


class _BudgetedPolicy:
    """The policy as the agent loop sees it: each command's timeout cut to the budget left, its model
    server's failures the ``model_server`` cause, and the model's own failure kept (with the steps
    played before it) for :func:`play` to end the episode with."""

    def __init__(self, policy: Any, ctx: TaskContext, env: Any, step_timeout: float):
        self.policy, self.ctx, self.env, self.step_timeout = policy, ctx, env, step_timeout
        self.name = getattr(policy, "name", "policy")
        self.failure: BaseException | None = None
        self.history: list[Step] = []

    def act(self, problem_statement: str, history: list[Step]) -> str:
        self.ctx.budget.check("the next step")
        self.env.unwrapped.step_timeout = self.ctx.budget.clamp(self.step_timeout)
        self.history = list(history)
        try:
            return ask_policy(self.name, self.policy.act, problem_statement, history)
        except InfrastructureError:
            raise
        except Exception as err:
            self.failure = err
            raise


def _ended_by_the_model(env: Any, task: Task, policy: _BudgetedPolicy, err: BaseException) -> Trajectory:
    """The trajectory of an episode the model's failure ended: the steps before it, the patch so far."""
    from swe_srl.episode import SOURCE_FORMAT

    sandbox = env.unwrapped.sandbox
    return Trajectory(
        instance_id=task.instance_id,
        source_format=SOURCE_FORMAT,
        model=policy.name,
        problem_statement=task.problem_statement,
        steps=policy.history,
        final_patch=sandbox.diff() if sandbox is not None else "",
        metadata={"exit_status": policy_exit_status(err), "policy_error": one_line(err), "reward": 0.0},
    )


def agent_seconds(ctx: TaskContext, settings: AttemptSettings) -> float | None:
    """The agent's wall limit: ``time_limit``, cut so that grading still fits in the budget."""
    left = ctx.budget.remaining()
    limit = settings.time_limit
    if math.isinf(left):
        return limit
    reserve = settings.test_timeout + GRADE_OVERHEAD
    room = left - reserve if left > reserve else left  # a budget too small for the reserve: share it
    return max(0.001, room if limit is None else min(limit, room))


def play(task: Task, policy: Any, settings: AttemptSettings, ctx: TaskContext) -> Trajectory:
    """The agent loop of ``policy`` on ``task`` (the ``agent`` phase)."""
    from swe_srl.env import SweEnv
    from swe_srl.episode import run_episode

    with ctx.phase("agent", "sandbox"):
        env = SweEnv(
            task=task,
            sandbox=settings.sandbox,
            max_steps=settings.max_steps,
            max_seconds=agent_seconds(ctx, settings),
            step_timeout=settings.step_timeout,
            diff_every_step=settings.diff_every_step,
        )
        budgeted = _BudgetedPolicy(policy, ctx, env, settings.step_timeout)
        try:
            return run_episode(env, budgeted, task)
        except Exception as err:
            if err is not budgeted.failure:
                raise
            return _ended_by_the_model(env, task, budgeted, err)
        finally:
            env.close()


def grade(task: Task, patch: str, settings: AttemptSettings, ctx: TaskContext) -> tuple[EvalResult, str]:
    """The grader's verdict on ``patch`` in a fresh sandbox (the ``grade`` phase), and its test log.

    The log is written on the node that graded (which may not be the driver's machine) into a
    temporary folder and comes back as text; the driver keeps it in the run folder.
    """
    from swe_srl.eval.grader import SandboxGrader

    timeout = ctx.budget.clamp(settings.test_timeout) or settings.test_timeout
    with ctx.phase("grade", "sandbox"), tempfile.TemporaryDirectory(prefix="swe-srl-grade-") as tmp:
        log_dir = Path(tmp) / "logs" if settings.keep_log else None
        result = SandboxGrader(settings.sandbox, test_timeout=timeout, log_dir=log_dir).grade(task, patch)
        log = (Path(tmp) / result.log).read_text(encoding="utf-8", errors="replace") if result.log else ""
    return dataclasses.replace(result, log=""), log


def usage_of(policy: Any) -> dict[str, float]:
    usage = getattr(policy, "usage", None)
    try:
        data = usage() if callable(usage) else usage
    except Exception:
        return {}
    return dict(data) if isinstance(data, dict) else {}


def play_and_grade(task: Task, policy: Any, settings: AttemptSettings, ctx: TaskContext) -> AttemptOutcome:
    """One attempt: play, grade, and the verdict with the attempt's steps and total duration."""
    trajectory = play(task, policy, settings, ctx)
    ctx.add_usage(usage_of(policy))
    result, log = grade(task, trajectory.final_patch, settings, ctx)
    result = dataclasses.replace(result, steps=len(trajectory.steps), duration=round(ctx.budget.elapsed(), 3))
    if "policy_error" in trajectory.metadata:  # the model's failure ended the episode: say so
        ended = f"episode ended by the policy: {trajectory.metadata['policy_error']}"
        result = dataclasses.replace(result, reason=f"{ended}; {result.reason}" if result.reason else ended)
    trajectory.resolved = result.resolved
    trajectory.metadata["eval_status"] = result.status
    return AttemptOutcome(result, trajectory, log)
