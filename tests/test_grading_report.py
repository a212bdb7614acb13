"""The grader's new fields in the run files: the tampered status, the audit, the kept log."""

from __future__ import annotations

import io
import json

from rich.console import Console

from swe_srl.eval.report import build_report, print_report, write_json_atomic
from swe_srl.eval.results import ResultsLog
from swe_srl.records import EvalResult
from swe_srl.report.collect import read_eval_run
from swe_srl.report.tables import eval_tasks

RESULTS = [
    EvalResult("a", "resolved", True, log="logs/a/test_output.txt"),
    EvalResult(
        "b",
        "tampered",
        False,
        reason="the canary test that must fail reported PASSED in tests/test_x.py (forced results)",
        audit=["imports-test-framework pkg/__init__.py"],
        log="logs/b/test_output.txt",
    ),
    EvalResult("c", "unresolved", False, reason="1 required test(s) not passing"),
]


def test_results_keep_audit_and_log_through_results_jsonl(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    for result in RESULTS:
        log.append(result)
    loaded = log.load()
    assert loaded["b"].audit == ["imports-test-framework pkg/__init__.py"]
    assert loaded["a"].log == "logs/a/test_output.txt"
    old_line = {"instance_id": "d", "status": "error", "resolved": False}  # written before these fields
    (tmp_path / "results.jsonl").open("a").write(json.dumps(old_line) + "\n")
    assert ResultsLog(tmp_path / "results.jsonl").load()["d"].audit == []


def test_report_json_and_tables_show_tampered_runs_and_audit_findings(tmp_path):
    report = build_report(RESULTS, {"tasks": "", "policy": "gold"})
    assert report.statuses == {"resolved": 1, "tampered": 1, "unresolved": 1}
    assert set(report.tampered) == {"b"} and "canary" in report.tampered["b"]
    assert report.audited == 1
    write_json_atomic(tmp_path / "report.json", report.to_dict())
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["tasks"][1]["audit"] == ["imports-test-framework pkg/__init__.py"]
    assert data["tasks"][0]["log"] == "logs/a/test_output.txt"
    buffer = io.StringIO()
    print_report(report, Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert (
        "tampered" in text and "imports-test-framework" in text and "1 patch(es) with audit findings" in text
    )
    table = eval_tasks([read_eval_run(tmp_path)])
    cells = {row[0]: row[3] for row in table.rows}
    assert cells["b"] == "tampered (0 steps, 1 audit finding(s))"


def test_markup_in_reason_and_audit_prints_as_written():
    """Reasons and audit findings quote names a patch chose (files it wrote, files it named): rich
    markup in them is text, never a style, a link, or an error that ends the run's report."""
    hostile = EvalResult(
        "[bold]x[/bold]",
        "tampered",
        False,
        reason="code under test wrote /testbed/tests/[/]a.py ([link=file:///etc/passwd]pkg/b.py[/link])",
        audit=["symlink [/]c"],
    )
    buffer = io.StringIO()
    print_report(build_report([hostile], {"tasks": "", "policy": "m"}), Console(file=buffer, width=300))
    text = buffer.getvalue()
    assert "[bold]x[/bold]" in text and "tests/[/]a.py" in text and "[link=file:///etc/passwd]" in text
    assert "symlink [/]c" in text
