"""One attempt at a task inside its budget: the agent loop in ``SweEnv``, then a fresh-sandbox grade.

The work of ``eval`` (e2e setting) and of every ``rollout`` attempt. Timeouts come out of the
task's budget: the agent's wall limit leaves room for grading (``--test-timeout`` plus
:data:`GRADE_OVERHEAD`) so a slow agent is truncated and graded, never turned into an
infrastructure ``timeout``; each command's timeout is cut to what is left. A policy that raises is
the ``model_server`` cause; a sandbox that fails is ``sandbox``.

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


class _BudgetedPolicy:
    """The policy as the agent loop sees it: each command's timeout cut to the budget left, and a
    failing policy reported as the ``model_server`` cause."""

    def __init__(self, policy: Any, ctx: TaskContext, env: Any, step_timeout: float):
        self.policy, self.ctx, self.env, self.step_timeout = policy, ctx, env, step_timeout
        self.name = getattr(policy, "name", "policy")

    def act(self, problem_statement: str, history: list[Step]) -> str:
        self.ctx.budget.check("the next step")
        self.env.unwrapped.step_timeout = self.ctx.budget.clamp(self.step_timeout)
        try:
            return self.policy.act(problem_statement, history)
        except InfrastructureError:
            raise
        except Exception as err:
            raise InfrastructureError(f"policy {self.name}: {one_line(err)}", "model_server") from err


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
        try:
            return run_episode(env, _BudgetedPolicy(policy, ctx, env, settings.step_timeout), task)
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
    trajectory.resolved = result.resolved
    trajectory.metadata["eval_status"] = result.status
    return AttemptOutcome(result, trajectory, log)
