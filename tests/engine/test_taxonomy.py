"""Verdicts vs infrastructure errors: what is masked, what counts in the resolve rate."""

from __future__ import annotations

import pytest

from swe_srl.engine import CAUSES, InfrastructureError, is_infrastructure_error
from swe_srl.engine.taxonomy import classify
from swe_srl.eval.report import build_report
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


HANG_TEST = (
    "diff --git a/tests/test_issue_1.py b/tests/test_issue_1.py\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/tests/test_issue_1.py\n@@ -0,0 +1,3 @@\n"
    "+def test_negative_compound_duration():\n+    while True:\n+        pass\n"
)


def test_retry_errors_reruns_infrastructure_errors_only(tmp_path):
    import dataclasses
    import json

    from engine_helpers import results

    from swe_srl.eval.runner import EvalConfig, run_eval
    from swe_srl.tasks.loader import read_tasks

    task = read_tasks("sample").tasks[0]
    hangs = dataclasses.replace(
        task, instance_id="hangs", test_patch=HANG_TEST,
        FAIL_TO_PASS=("tests/test_issue_1.py::test_negative_compound_duration",),
    )  # fmt: skip
    suite, out = tmp_path / "tasks.jsonl", tmp_path / "run"

    def write(flaky_repo: str) -> None:
        rows = [dataclasses.replace(task, instance_id="flaky", repo_dir=flaky_repo), hangs]
        suite.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))

    write(str(tmp_path / "not-yet"))
    config = EvalConfig(tasks=str(suite), policy="gold", out=out, test_timeout=3, workers=2)
    run_eval(config)
    first = {r["instance_id"]: (r["status"], r["cause"]) for r in results(out)}
    assert first == {"flaky": ("error", "environment"), "hangs": ("error", "")}  # the tests' hang: no cause
    write(task.repo_dir)  # the cause of the infrastructure error is gone
    report = run_eval(dataclasses.replace(config, retry_errors=True))
    assert [(r["instance_id"], r["status"]) for r in results(out)[2:]] == [
        ("flaky", "resolved")
    ]  # only it ran
    assert (report.judged, report.resolved, report.infrastructure_errors) == (2, 1, {})


def test_a_failing_model_server_is_an_infrastructure_error(tmp_path):
    from engine_helpers import ModelServerDouble, results

    from swe_srl.eval.runner import EvalConfig, run_eval

    with ModelServerDouble("fail") as server:  # up for the preflight, then HTTP 500 to every request
        report = run_eval(EvalConfig(tasks="sample", policy=server.spec, out=tmp_path / "run"))
    [row] = results(tmp_path / "run")
    assert (row["status"], row["cause"]) == ("error", "model_server") and "500" in row["reason"]
    assert (report.judged, report.infrastructure_errors) == (0, {"model_server": 1})
