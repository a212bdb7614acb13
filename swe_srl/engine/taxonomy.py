"""What a task's outcome says: a verdict on the model, or an infrastructure error with its cause.

Verdicts (``resolved``, ``unresolved``, ``patch_failed``, and any other status the grader gives a
patch) judge the model and count in the resolve rate. Status ``error`` means the task could not be
judged because something other than the model failed; its ``cause`` says what:

- ``sandbox``: a sandbox failed to start, died, or its engine went away;
- ``timeout``: the task's wall budget ran out (create + agent + grade + teardown);
- ``model_server``: the policy's model server failed (unreachable, died, timed out, 5xx after the
  retries); the model's own failures (a prompt over the context window, a refused request) end its
  episode and are graded (``swe_srl.engine.attempt``);
- ``node_lost``: the machine running the task died (after the engine's bounded retries);
- ``environment``: the task or its environment is broken (malformed row, repository or image
  that cannot be prepared, a test patch that does not apply).

Infrastructure errors are left out of the resolve rate's denominator, reported apart, rerun by
``--retry-errors``, and masked (never scored 0) when rollouts or RLVR turn outcomes into rewards.
What code under test does is never one of them: the grader's ``error`` results for tests that hang
past the test timeout or crash the interpreter carry no cause, count as failures of the patch, and
are scored, so a policy cannot turn a failure into a masked sample by making the tests hang or die.
"""

from __future__ import annotations

from typing import Any

from swe_srl.records import RecordError, SweSrlError

ERROR = "error"
CAUSES = ("sandbox", "timeout", "model_server", "node_lost", "environment")


class InfrastructureError(SweSrlError):
    """Something other than the model failed; ``cause`` is one of :data:`CAUSES`."""

    def __init__(self, message: str, cause: str):
        if cause not in CAUSES:
            raise ValueError(f"unknown cause {cause!r}; expected one of {', '.join(CAUSES)}")
        super().__init__(message)
        self.cause = cause


def is_infrastructure_error(result: Any) -> bool:
    """Whether an outcome (``EvalResult``, rollout ``AttemptRecord``, or their dict) is an
    infrastructure error, to be masked rather than scored: status ``error`` with a cause."""

    def get(name: str) -> Any:
        return result.get(name) if isinstance(result, dict) else getattr(result, name, None)

    return get("status") == ERROR and get("cause") in CAUSES


def classify(exc: BaseException, default: str) -> str:
    """The cause an exception names, or ``default`` (the cause of the phase it escaped from)."""
    from swe_srl.sandbox.base import SandboxError
    from swe_srl.sandbox.workspace import WorkspaceError

    if isinstance(exc, InfrastructureError):
        return exc.cause
    if isinstance(exc, WorkspaceError | RecordError):
        return "environment"  # the task's repository or record, not the machinery
    if isinstance(exc, SandboxError):
        return "sandbox"
    return default  # the cause of the phase it escaped from (``TaskContext.phase``)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (the reason recorded with an error)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
