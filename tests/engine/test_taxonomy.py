"""Verdicts vs infrastructure errors: what is masked, what counts in the resolve rate."""

from __future__ import annotations

import pytest

from swe_srl.engine import CAUSES, InfrastructureError, is_infrastructure_error
from swe_srl.engine.taxonomy import classify
from swe_srl.eval.report import build_report
from swe_srl.policy.openai import PolicyError
from swe_srl.records import EvalResult, RecordError
from swe_srl.sandbox import SandboxError, WorkspaceError


def test_only_errors_with_a_cause_are_infrastructure_errors():
    assert is_infrastructure_error(EvalResult("a", "error", False, "engine gone", cause="sandbox"))
    assert is_infrastructure_error({"status": "error", "cause": "node_lost"})
    for verdict in ("resolved", "unresolved", "patch_failed"):
        assert not is_infrastructure_error(EvalResult("a", verdict, verdict == "resolved"))
    # the grader's errors that code under test causes (tests hang or crash) carry no cause: scored
    assert not is_infrastructure_error(EvalResult("a", "error", False, "tests timed out after 3s"))
    assert not is_infrastructure_error({"status": "error", "cause": "gremlins"})


def test_exceptions_name_their_cause_or_take_their_phases():
    assert classify(WorkspaceError("cannot prepare"), "sandbox") == "environment"
    assert classify(RecordError("bad row"), "sandbox") == "environment"
    assert classify(SandboxError("container gone"), "model_server") == "sandbox"
    assert classify(PolicyError("endpoint refused"), "sandbox") == "model_server"
    assert classify(InfrastructureError("lost", "node_lost"), "sandbox") == "node_lost"
    assert classify(RuntimeError("?"), "environment") == "environment"
    with pytest.raises(ValueError, match="unknown cause"):
        InfrastructureError("x", "cosmic-rays")
    assert set(CAUSES) == {"sandbox", "timeout", "model_server", "node_lost", "environment"}


def test_resolve_rate_leaves_infrastructure_errors_out_of_the_denominator():
    results = [
        EvalResult("r1", "resolved", True),
        EvalResult("u1", "unresolved", False),
        EvalResult("hang", "error", False, "tests timed out after 3s"),  # the patch's doing: counted
        EvalResult("s1", "error", False, "sandbox failed to start", cause="sandbox"),
        EvalResult("t1", "error", False, "task budget ran out", cause="timeout"),
        EvalResult("t2", "error", False, "task budget ran out", cause="timeout"),
    ]
    report = build_report(results)
    assert (report.total, report.judged, report.resolved) == (6, 3, 1)
    assert report.resolve_rate == pytest.approx(1 / 3)
    assert report.infrastructure_errors == {"sandbox": 1, "timeout": 2}
    assert set(report.errors) == {"hang", "s1", "t1", "t2"}
    assert {row.instance_id: row.cause for row in report.tasks}["t1"] == "timeout"
