"""Whose failure a policy's exception is, as the run engine records it.

Only the model server failing is infrastructure (cause ``model_server``: rerun by ``--retry-errors``,
masked in rollouts). A prompt over the context window, a refused request or a policy that cannot go
on is the model's: the episode ends and the patch so far is graded. The served cases run a real
``transformers serve`` of the tiny model (started by the ``hf:`` policy source, as a run starts it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

from swe_srl.engine import InfrastructureError, is_infrastructure_error
from swe_srl.engine.attempt import AttemptOutcome, AttemptSettings, ask_policy, play_and_grade
from swe_srl.engine.jobs import Job, JobResult, NodeSettings, TaskContext, run_on_node
from swe_srl.episode import SAMPLE_FIX_SCRIPT, ScriptedPolicy
from swe_srl.eval.oracle import run_oracle
from swe_srl.policy import ModelServerError, PolicyError, PolicyOptions, open_policy_source
from swe_srl.policy.chat import ContextWindow, ContextWindowError
from swe_srl.tasks.loader import read_tasks


@dataclass(frozen=True)
class Attempt:
    """One attempt at a task through the engine's own work (the agent loop, or the oracle setting)."""

    policy: Any
    oracle: bool = False

    def __call__(self, task, ctx: TaskContext) -> AttemptOutcome:
        settings = AttemptSettings("local", max_steps=10, test_timeout=120)
        run = run_oracle if self.oracle else play_and_grade
        return run(task, self.policy, settings, ctx)


def attempt(policy: Any, *, oracle: bool = False) -> JobResult:
    task = read_tasks("sample").tasks[0]
    job = Job(task.instance_id, task)
    return run_on_node(Attempt(policy, oracle), job, NodeSettings("policy-failures"), "local")


def _raises(err: BaseException):
    def call() -> None:
        raise err

    return call


def test_only_a_model_servers_failure_is_the_model_server_cause():
    for err in (ModelServerError("HTTP 503 after 4 attempts"), ConnectionResetError(), TimeoutError()):
        with pytest.raises(InfrastructureError) as caught:
            ask_policy("p", _raises(err))
        assert caught.value.cause == "model_server"
    for err in (ContextWindowError("the prompt needs 900 tokens"), PolicyError("HTTP 422"), KeyError("x")):
        with pytest.raises(type(err)):  # unchanged: the model's (or its policy's) failure
            ask_policy("p", _raises(err))


def test_a_policy_that_stops_after_fixing_has_its_patch_graded(tmpdir_private):
    # The bundled sample fix without its submit: the script runs out with the fix in the tree.
    result = attempt(ScriptedPolicy(SAMPLE_FIX_SCRIPT[:-1], name="fix-no-submit"))
    assert result.ok, result.error
    outcome: AttemptOutcome = result.value
    assert outcome.result.status == "resolved" and not is_infrastructure_error(outcome.result)
    assert outcome.trajectory.metadata["exit_status"] == "policy_error"
    assert "ScriptEndedError" in outcome.result.reason and len(outcome.trajectory.steps) == 6


@pytest.fixture(scope="module")
def served(tiny_dir, tmp_path_factory):
    """``hf:TINY`` opened as a run opens it: a real managed ``transformers serve``, preflighted."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    options = PolicyOptions(max_tokens=8, server_log=str(log), request_timeout=120, retries=1, cpu_threads=1)
    source = open_policy_source(f"hf:{tiny_dir}", options)
    try:
        source.preflight()
        yield source
    finally:
        source.close()


def _narrow(policy: Any) -> Any:
    """``policy`` with a context window no prompt of the task fits, whatever trimming does."""
    policy.window = dataclasses.replace(policy.window, limit=40)
    return policy


@pytest.mark.slow
def test_a_prompt_over_the_context_window_is_the_models_failure_not_infrastructure(served, tmpdir_private):
    task = read_tasks("sample").tasks[0]
    result = attempt(_narrow(served.for_task(task)))
    assert result.ok, result.error  # no infrastructure cause
    outcome: AttemptOutcome = result.value
    assert outcome.result.status == "unresolved" and not is_infrastructure_error(outcome.result)
    assert outcome.trajectory.metadata["exit_status"] == "context_window"
    assert "ContextWindowError" in outcome.result.reason and "context window" in outcome.result.reason
    oracle = attempt(_narrow(served.for_task(task)), oracle=True)
    assert oracle.ok, oracle.error
    assert oracle.value.result.status == "unresolved" and "did not answer" in oracle.value.result.reason
    assert oracle.value.trajectory.metadata["exit_status"] == "context_window"


@pytest.mark.slow
def test_a_model_server_that_went_away_is_the_model_server_cause(served, tmpdir_private):
    task = read_tasks("sample").tasks[0]
    policy = served.for_task(task)
    assert isinstance(policy.window, ContextWindow)
    reply = policy.act(task.problem_statement, [])  # the real server answers...
    assert reply.metadata["model"]["completion_tokens"] > 0
    served.close()  # ...and then stops, as a crashed or stopped server does
    result = attempt(policy)
    assert (result.cause, result.value) == ("model_server", None)
    assert "ModelServerError" in result.error
