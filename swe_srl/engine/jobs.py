"""Jobs and what runs them on a node: readiness, the budget, tracked sandboxes, a result that never raises.

A :class:`Job` is one unit of a run (an eval task, a rollout attempt, a validation, a replay check, an
image build) with a key that is unique in the run: the driver records each key exactly once. The
:class:`Work` of a run is a picklable callable that turns a job's payload into a value on whatever
node the executor picked; :func:`run_on_node` wraps it so that every failure comes back as a
:class:`JobResult` with an infrastructure cause (:mod:`swe_srl.engine.taxonomy`) instead of an
exception, together with the task's timings.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from swe_srl.engine.budget import Budget, BudgetExceeded
from swe_srl.engine.node import NodeState, Requirement, ensure_ready
from swe_srl.engine.sandboxes import SandboxTracker
from swe_srl.engine.taxonomy import InfrastructureError, classify, one_line


@dataclass(frozen=True)
class Job:
    """One unit of work; ``node`` pins it to one node (jobs run on every node, such as builds)."""

    key: str
    payload: Any
    requirements: tuple[Requirement, ...] = ()
    node: str | None = None


@dataclass(frozen=True)
class TaskTimings:
    """Where one task's wall time went (seconds), and what its policy reported using."""

    total: float = 0.0
    ready: float = 0.0
    sandbox_starts: tuple[float, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)  # e.g. agent, grade
    usage: dict[str, float] = field(default_factory=dict)  # e.g. completion_tokens, generation_seconds


@dataclass(frozen=True)
class JobResult:
    """What came back for a job: a value, or an infrastructure ``cause`` and ``error``."""

    key: str
    value: Any = None
    cause: str = ""
    error: str = ""
    node: str = ""
    pid: int = 0
    timings: TaskTimings = field(default_factory=TaskTimings)

    @property
    def ok(self) -> bool:
        return not self.cause


class TaskContext:
    """What the work of one job sees: its budget, its node, and timers for its phases."""

    def __init__(self, budget: Budget, node_id: str):
        self.budget = budget
        self.node_id = node_id
        self.phases: dict[str, float] = {}
        self.usage: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str, cause: str) -> Iterator[None]:
        """Time a phase; an exception escaping it becomes an infrastructure error of ``cause``
        (or of the cause its type names), or ``timeout`` when the budget is gone."""
        began = time.monotonic()
        try:
            yield
        except InfrastructureError:
            raise
        except Exception as err:
            if self.budget.expired():
                raise BudgetExceeded(self.budget.why()) from err
            raise InfrastructureError(f"{name}: {one_line(err)}", classify(err, cause)) from err
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.monotonic() - began, 3)

    def add_usage(self, usage: dict[str, float] | None) -> None:
        """Add what a policy reports having used (tokens, generation seconds)."""
        for name, value in (usage or {}).items():
            if isinstance(value, int | float):
                self.usage[name] = self.usage.get(name, 0) + value


class Work(Protocol):
    """The work of a run: picklable, called on a node with a job's payload."""

    def __call__(self, payload: Any, ctx: TaskContext) -> Any: ...


@dataclass(frozen=True)
class NodeSettings:
    """What :func:`run_on_node` needs from the run (shipped with every job)."""

    run_id: str
    task_budget: float | None = None
    start_cap: int = 8
    requirements: tuple[Requirement, ...] = ()  # met before every job, once per node


def run_on_node(
    work: Work, job: Job, settings: NodeSettings, node_id: str, cancel: threading.Event | None = None
) -> JobResult:
    """Run one job here; never raises. A job that ends past its budget is a ``timeout``."""
    budget = Budget(settings.task_budget, cancel)
    ctx = TaskContext(budget, node_id)
    value, cause, error, ready_seconds = None, "", "", 0.0
    tracker = SandboxTracker(
        run_id=settings.run_id, key=job.key, node=NodeState.of(node_id), budget=budget,
        start_cap=settings.start_cap,
    )  # fmt: skip
    try:
        ready_began = time.monotonic()
        ensure_ready(node_id, (*settings.requirements, *job.requirements), settings.run_id, budget)
        ready_seconds = time.monotonic() - ready_began
        from swe_srl.sandbox import sandbox_opener

        with tracker, sandbox_opener(tracker.open):
            value = work(job.payload, ctx)
    except InfrastructureError as err:
        cause, error = err.cause, str(err)
    except Exception as err:  # a bug or an unforeseen failure: it is not the model's
        cause, error = classify(err, "sandbox"), one_line(err)
    if budget.expired() and cause != "timeout":
        value, cause, error = None, "timeout", budget.why()
    timings = TaskTimings(
        total=round(budget.elapsed(), 3),
        ready=round(ready_seconds, 3),
        sandbox_starts=tuple(tracker.starts),
        phases=dict(ctx.phases),
        usage=dict(ctx.usage),
    )
    return JobResult(job.key, value, cause, error, node_id, os.getpid(), timings)
