"""Reading the launcher's record stream and grading it (pure functions, no sandbox)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from swe_srl.eval.evalscript import Canaries
from swe_srl.eval.logs import grade_statuses, read_records, read_text_log, strip_ansi
from swe_srl.eval.testspec import TestRunSpec
from swe_srl.records import Task

CANARIES = Canaries("test_keeps_0a1b", "test_keeps_9f8e")
MODULE = "tests/test_x.py"
TASK = Task(
    instance_id="demo__x-1",
    repo="demo/x",
    base_commit="",
    problem_statement="x",
    FAIL_TO_PASS=("tests/test_x.py::test_fixed",),
    PASS_TO_PASS=("tests/test_x.py::test_kept[a b]", "tests/test_x.py::test_optional"),
)


def _test(test_id: str, status: str, declared: bool = True, module: str | None = MODULE) -> dict:
    return {"swe_srl": "test", "id": test_id, "status": status, "declared": declared, "module": module}


def _stream(*tests: dict, canary_fail: str = "FAILED", finish: bool = True, after: tuple = ()) -> str:
    records = [{"swe_srl": "prepared"}, {"swe_srl": "start", "pytest": "7.2.1", "python": "3.11"}]
    records += [
        _test(f"{MODULE}::{CANARIES.must_pass}", "PASSED", module=None),
        _test(f"{MODULE}::{CANARIES.must_fail}", canary_fail, module=None),
        *tests,
    ]
    if finish:
        records.append({"swe_srl": "finish", "exitstatus": 1})
    records.append({"swe_srl": "exit", "status": 1})
    records += list(after)
    return "".join(json.dumps(r) + "\n" for r in records)


HONEST = (
    _test("tests/test_x.py::test_fixed", "PASSED"),
    _test("tests/test_x.py::test_kept[a b]", "PASSED"),
    _test("tests/test_x.py::test_optional", "SKIPPED", declared=True),
)


def test_honest_stream_resolves_with_exact_ids_and_declared_skips():
    run = read_records(_stream(*HONEST), CANARIES)
    assert run.state == "ran" and run.structured
    assert set(run.tests) == {t["id"] for t in HONEST}  # canaries are not tests of the task
    grade = grade_statuses(TASK, run)
    assert (grade.status, grade.resolved) == ("resolved", True), grade.reason
    assert grade.tests["tests/test_x.py::test_kept[a b]"] == "PASSED"


def test_ids_with_spaces_still_match_swebench_truncated_ids():
    cut = ("tests/test_x.py::test_kept[a", *TASK.PASS_TO_PASS[1:])  # swebench's parser cuts at spaces
    truncated = dataclasses.replace(TASK, PASS_TO_PASS=cut)
    grade = grade_statuses(truncated, read_records(_stream(*HONEST), CANARIES))
    assert grade.resolved, grade.reason


@pytest.mark.parametrize("status", ["XFAIL", "SKIPPED", "XPASS"])
def test_fail_to_pass_counts_only_when_passed(status):
    tests = (_test("tests/test_x.py::test_fixed", status, declared=True), *HONEST[1:])
    grade = grade_statuses(TASK, read_records(_stream(*tests), CANARIES))
    assert grade.status == "unresolved"
    assert grade.tests["tests/test_x.py::test_fixed"] == "FAILED"


def test_undeclared_skip_of_a_pass_to_pass_test_is_a_failure():
    tests = (*HONEST[:2], _test("tests/test_x.py::test_optional", "SKIPPED", declared=False))
    grade = grade_statuses(TASK, read_records(_stream(*tests), CANARIES))
    assert grade.status == "unresolved"
    assert "skipped or xfailed by code outside the tests" in grade.reason


@pytest.mark.parametrize("status", ["PASSED", "XPASS"])
def test_passing_must_fail_canary_is_tampering(status):
    run = read_records(_stream(*HONEST, canary_fail=status), CANARIES)
    assert run.state == "tampered" and "must fail" in run.reason
    assert grade_statuses(TASK, run).status == "tampered"


def test_undeclared_xfail_of_the_must_fail_canary_is_tampering():
    stream = _stream(*HONEST).replace(
        json.dumps(_test(f"{MODULE}::{CANARIES.must_fail}", "FAILED", module=None)),
        json.dumps(_test(f"{MODULE}::{CANARIES.must_fail}", "XFAIL", declared=False, module=None)),
    )
    assert read_records(stream, CANARIES).state == "tampered"


def test_missing_canary_is_tampering():
    stream = "".join(line + "\n" for line in _stream(*HONEST).splitlines() if CANARIES.must_fail not in line)
    run = read_records(stream, CANARIES)
    assert run.state == "tampered" and "not reported" in run.reason


def test_records_without_a_module_from_a_host_test_file_still_need_canaries():
    forged = (
        _test("tests/test_x.py::test_fixed", "PASSED", module=None),
        _test("tests/test_x.py::test_kept[a b]", "PASSED", module=None),
    )
    records = [{"swe_srl": "prepared"}, {"swe_srl": "start"}, *forged, {"swe_srl": "finish", "exitstatus": 0}]
    stream = "".join(json.dumps(r) + "\n" for r in [*records, {"swe_srl": "exit", "status": 0}])
    assert read_records(stream, CANARIES).state == "ran"  # a module nobody named: nothing to look for
    run = read_records(stream, CANARIES, canary_files=[MODULE])
    assert run.state == "tampered" and "tests/test_x.py were not reported" in run.reason


LAST = dataclasses.replace(CANARIES, must_fail_last="test_keeps_77aa")


@pytest.mark.parametrize("status", ["PASSED", "XPASS", None])
def test_the_last_canary_must_fail_too(status):
    last = () if status is None else (_test(f"{MODULE}::{LAST.must_fail_last}", status, module=None),)
    run = read_records(_stream(*HONEST, *last), LAST)
    assert run.state == "tampered" and "must fail" in run.reason
    honest = read_records(_stream(*HONEST, _test(f"{MODULE}::{LAST.must_fail_last}", "FAILED")), LAST)
    assert honest.state == "ran" and LAST.must_fail_last not in "".join(honest.tests)


def test_the_last_canary_may_be_missing_only_when_a_failure_stopped_pytest_early():
    stopped = _stream(*HONEST).replace('"exitstatus": 1}', '"exitstatus": 1, "stopped": true}')
    assert read_records(stopped, LAST).state == "tampered"  # says it stopped, yet every test passed
    failed = (_test("tests/test_x.py::test_other", "FAILED"), *HONEST)
    stopped = _stream(*failed).replace('"exitstatus": 1}', '"exitstatus": 1, "stopped": true}')
    assert read_records(stopped, LAST).state == "ran"


@pytest.mark.parametrize("separator", ["\n", "\r", "\u2028", "\x1c", "\x85"])
def test_newline_in_node_id_forges_a_parser_key(separator):
    """A test id holding a line break (a parametrize id taken from a library object's ``__name__``)
    must not become a second line for swebench's parser, whose keys fill ids missing from the run."""
    forged = f"tests/test_x.py::test_kept[x{separator}PASSED tests/test_x.py::test_fixed{separator}]"
    tests = (_test(forged, "PASSED"), *HONEST[1:])
    grade = grade_statuses(TASK, read_records(_stream(*tests), CANARIES))
    assert grade.status == "unresolved" and grade.tests["tests/test_x.py::test_fixed"] == "MISSING"


def test_records_after_the_end_are_tampering():
    run = read_records(_stream(*HONEST, after=(_test("tests/test_x.py::test_fixed", "PASSED"),)), CANARIES)
    assert run.state == "tampered" and "after the test command ended" in run.reason


def test_a_test_reported_twice_with_different_outcomes_is_tampering():
    tests = (_test("tests/test_x.py::test_fixed", "FAILED"), *HONEST)
    run = read_records(_stream(*tests), CANARIES)
    assert run.state == "tampered" and "reported twice" in run.reason


def test_records_that_are_not_ours_are_ignored():
    run = read_records("garbage\n{not json\n[1, 2]\n" + _stream(*HONEST), CANARIES)
    assert run.state == "ran" and grade_statuses(TASK, run).resolved


def test_pytest_that_never_finishes_is_a_crash_and_one_that_never_starts_did_not_run():
    crashed = read_records(_stream(*HONEST, finish=False), CANARIES)
    assert (crashed.state, crashed.reason.split(":")[0]) == ("error", "tests crashed")
    never = read_records('{"swe_srl": "prepared"}\n{"swe_srl": "exit", "status": 4}\n', CANARIES)
    assert never.state == "error" and "never started" in never.reason and "4" in never.reason


def test_test_patch_failure_and_truncated_results_are_errors():
    assert "test patch" in read_records('{"swe_srl": "test_patch_failed"}\n', CANARIES).reason
    assert read_records(_stream(*HONEST), CANARIES, truncated=True).state == "error"


DJANGO_LOG = """+ ./tests/runtests.py --verbosity 2 admin_views.tests
>>>>> Start Test Output
\x1b[32mtest_changelist (admin_views.tests.AdminViewBasicTest) ... ok\x1b[0m
test_delete (admin_views.tests.AdminViewBasicTest) ... ok
----------------------------------------------------------------------
Ran 2 tests in 0.101s

OK
>>>>> End Test Output
>>>>> Test Exit Code: 0
"""


def test_text_logs_go_to_the_tasks_own_parser_before_any_pytest_check():
    spec = TestRunSpec("django__django-1", "./tests/runtests.py --verbosity 2", "parse_log_django")
    run = read_text_log(DJANGO_LOG, spec)
    task = dataclasses.replace(
        TASK,
        log_parser="django",
        FAIL_TO_PASS=("test_changelist (admin_views.tests.AdminViewBasicTest)",),
        PASS_TO_PASS=("test_delete (admin_views.tests.AdminViewBasicTest)",),
    )
    assert run.state == "ran" and not run.structured
    grade = grade_statuses(task, run)
    assert grade.resolved, grade.reason


def test_ansi_colour_is_stripped_before_parsing():
    assert strip_ansi("\x1b[1m\x1b[32mPASSED\x1b[0m tests/t.py::a") == "PASSED tests/t.py::a"
    spec = TestRunSpec("demo__x-1")
    log = "\n".join(
        [">>>>> Start Test Output", "\x1b[32mPASSED\x1b[0m tests/t.py::a", ">>>>> End Test Output"]
    )
    assert read_text_log(log + "\n>>>>> Test Exit Code: 0\n", spec).tests == {"tests/t.py::a": "PASSED"}
