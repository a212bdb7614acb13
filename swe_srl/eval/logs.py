"""Read what a test run produced, and grade it with swebench's report functions.

Two sources, chosen by the test command (``testrun.py``), never by guessing from the text:

- **records** (pytest): one JSON line per test from ``sandbox_pytest.py``, read from the command's own
  output stream. Exact node ids (spaces included), the real outcome, whether a skip or xfail was
  declared by the tests. The stream must be in order (``prepared``, ``start``, tests, ``finish``,
  ``exit``): a record after the end, a test reported twice with different outcomes, a ``tamper``
  record (the launcher saw the repository's code at the grading), or canaries that are missing or
  pass when they must fail, grade the run ``tampered``. The modules whose canaries must be there
  include, whatever the records say, every test file the host named whose tests were reported;
- **a text log** (any other runner: Django's ``runtests.py``, sympy's ``bin/test``...): ANSI colour
  stripped, then cut and parsed by swebench's own ``get_logs_eval`` with the task's log parser.

Grading is swebench's ``get_eval_tests_report`` / ``get_resolution_status`` on the statuses, with
one rule of ours: a FAIL_TO_PASS test counts only when PASSED, and a PASS_TO_PASS test that is
SKIPPED or XFAIL counts only when the tests declared it (a marker, or ``pytest.skip``/``xfail``
called from test code). Library code calling ``pytest.xfail()`` or ``pytest.skip()`` on its own
tests therefore never makes them pass. On every honest run the verdict is swebench's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.eval.evalscript import END_TEST_OUTPUT, START_TEST_OUTPUT, TEST_PATCH_FAILED, Canaries
from swe_srl.eval.testspec import TestRunSpec
from swe_srl.records import Task

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
PASSING = "PASSED"
_FAILING = ("FAILED", "ERROR")


@dataclass(frozen=True)
class RunStatuses:
    """What one run of a task's tests says, before any FAIL_TO_PASS / PASS_TO_PASS rule."""

    state: str  # "ran" | "error" | "tampered"
    reason: str = ""
    tests: dict[str, str] = field(default_factory=dict)  # test id -> swebench status
    undeclared: frozenset[str] = frozenset()  # SKIPPED / XFAIL not declared by the tests
    exit_code: int | None = None
    structured: bool = False

    def with_problem(self, state: str, reason: str) -> RunStatuses:
        return dataclasses.replace(self, state=state, reason=reason)


@dataclass(frozen=True)
class LogGrade:
    """The verdict on one run: status, why, and the status of every required test."""

    resolved: bool
    status: str  # "resolved" | "unresolved" | "error" | "tampered"
    reason: str = ""
    tests: dict[str, str] = field(default_factory=dict)


def strip_ansi(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


# -- records ----------------------------------------------------------------------------------------
class _Stream:
    """The checks on the order of the record stream, as it is read."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.tests: dict[str, dict[str, Any]] = {}
        self.collect_errors: list[str] = []
        self.exit_code: int | None = None
        self.stopped = False  # pytest stopped before its last test (-x, --maxfail)
        self.problem = ""

    def add(self, record: dict[str, Any]) -> None:
        kind = str(record.get("swe_srl"))
        if "exit" in self.seen:
            self.problem = self.problem or "records were written after the test command ended"
        elif kind in ("test", "collect_error") and "finish" in self.seen:
            self.problem = self.problem or f"a {kind} record came after pytest finished"
        elif kind in ("start", "finish", "prepared") and kind in self.seen:
            self.problem = self.problem or f"pytest's {kind} record appears twice"
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if kind == "tamper":  # the launcher's audit hook saw the repository's code at the grading
            what = f"code under test {record.get('what')} ({record.get('by')})"
            self.problem = self.problem or what
        if kind == "test":
            self._test(record)
        elif kind == "collect_error":
            self.collect_errors.append(str(record.get("id")))
        elif kind == "exit":
            self.exit_code = int(record.get("status", -1))
        elif kind == "finish":
            self.stopped = bool(record.get("stopped"))

    def _test(self, record: dict[str, Any]) -> None:
        test_id = str(record.get("id"))
        earlier = self.tests.get(test_id)
        if earlier is not None and earlier.get("status") != record.get("status"):
            self.problem = self.problem or f"test {test_id} was reported twice with different outcomes"
        self.tests[test_id] = record


def _canary_modules(stream: _Stream, canary_files: tuple[str, ...]) -> set[str]:
    """The modules whose canaries must be there: those the launcher says it ran tests of, and, by
    the host's own count, every test file it named whose tests were reported (a record without a
    module, or a launcher that attached nothing, never exempts those)."""
    modules = {str(r["module"]) for r in stream.tests.values() if r.get("module")}
    files = set(canary_files)
    for test_id in stream.tests:
        path, sep, _ = test_id.partition("::")
        if sep and path in files:
            modules.add(path)
    return modules


def _must_fail_problem(record: dict[str, Any] | None, module: str) -> str:
    status = record.get("status") if record is not None else "nothing"
    if status in _FAILING or (status in ("SKIPPED", "XFAIL") and record and record.get("declared")):
        return ""
    return f"the canary test that must fail reported {status} in {module} (forced results)"


def _stopped_by_a_failure(stream: _Stream, canaries: Canaries) -> bool:
    """Whether pytest says --maxfail stopped it, and one of the real tests did fail (a canary's
    failure never counts towards --maxfail)."""
    real = (r for i, r in stream.tests.items() if i.rpartition("::")[2] not in canaries.names())
    return stream.stopped and any(r.get("status") in _FAILING for r in real)


def _canary_problem(stream: _Stream, canaries: Canaries, canary_files: tuple[str, ...] = ()) -> str:
    """Why the canaries show tampering ("" when they do not)."""
    for module in sorted(_canary_modules(stream, canary_files)):
        passing = stream.tests.get(f"{module}::{canaries.must_pass}")
        failing = stream.tests.get(f"{module}::{canaries.must_fail}")
        if passing is None or failing is None:
            return f"the canary tests of {module} were not reported"
        problem = _must_fail_problem(failing, module)
        last = stream.tests.get(f"{module}::{canaries.must_fail_last}") if canaries.must_fail_last else None
        excused = last is None and _stopped_by_a_failure(stream, canaries)  # -x stopped pytest before it ran
        if not problem and canaries.must_fail_last and not excused:
            problem = _must_fail_problem(last, module)
        if problem:
            return problem
    return ""


def _parse_records(channel: str) -> _Stream:
    stream = _Stream()
    for line in channel.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # not ours: anything else that wrote to the stream gains nothing by it
        if isinstance(record, dict) and "swe_srl" in record:
            stream.add(record)
    return stream


def read_records(
    channel: str, canaries: Canaries | None, *, truncated: bool = False, canary_files: list[str] | tuple = ()
) -> RunStatuses:
    """The statuses the launcher's record stream reports (see the module docstring); ``canary_files``
    are the test files the host had the canaries appended to."""
    if truncated:
        return RunStatuses("error", "the test results exceed the sandbox's output limit", structured=True)
    stream = _parse_records(channel)
    code = stream.exit_code
    base = RunStatuses("ran", exit_code=code, structured=True)
    if "test_patch_failed" in stream.seen:
        return base.with_problem("error", "the task's test patch did not apply")
    if stream.problem:
        return base.with_problem("tampered", stream.problem)
    if "start" not in stream.seen:
        return base.with_problem("error", f"tests did not run: pytest never started (exit status {code})")
    if "finish" not in stream.seen:
        return base.with_problem(
            "error", f"tests crashed: pytest did not finish its session (exit status {code})"
        )
    problem = _canary_problem(stream, canaries, tuple(canary_files)) if canaries else ""
    tests, undeclared = {}, set()
    names = canaries.names() if canaries else set()
    for test_id, record in stream.tests.items():
        if test_id.rpartition("::")[2] in names:
            continue
        tests[test_id] = str(record.get("status"))
        if tests[test_id] in ("SKIPPED", "XFAIL") and not record.get("declared"):
            undeclared.add(test_id)
    for test_id in stream.collect_errors:
        tests.setdefault(test_id, "ERROR")
    state = "tampered" if problem else "ran"
    return RunStatuses(state, problem, tests, frozenset(undeclared), code, structured=True)


# -- text logs --------------------------------------------------------------------------------------
def swebench_test_spec(task: Task, log_parser: str = ""):
    """swebench's ``TestSpec`` for ``task``: what its parsers and report functions take."""
    from swebench.types import TestSpec

    from swe_srl.eval.testspec import swebench_eval_type, swebench_log_parser

    return TestSpec(
        instance_id=task.instance_id,
        image=task.image,
        eval_script_list=[],
        repo=task.repo,
        version=task.version,
        FAIL_TO_PASS=list(task.FAIL_TO_PASS),
        PASS_TO_PASS=list(task.PASS_TO_PASS),
        log_parser=log_parser or swebench_log_parser(task.log_parser),
        eval_type=swebench_eval_type(task.eval_type),
    )


def _parser_spec(run_spec: TestRunSpec):
    """What swebench's parsers are given besides the log (some look at the instance id or version)."""
    from swebench.types import TestSpec

    return TestSpec(
        instance_id=run_spec.instance_id,
        image="",
        eval_script_list=[],
        repo="",
        version=run_spec.version,
        FAIL_TO_PASS=[],
        PASS_TO_PASS=[],
        log_parser=run_spec.log_parser,
    )


def read_text_log(log: str, run_spec: TestRunSpec, *, truncated: bool = False) -> RunStatuses:
    """Statuses from a text log by swebench's ``get_logs_eval`` (markers, parser, exit-status check)."""
    from swebench.harness.grading import get_logs_eval, parse_test_exit_code

    log = strip_ansi(log)
    code = parse_test_exit_code(log)
    base = RunStatuses("ran", exit_code=code)
    if TEST_PATCH_FAILED in log and START_TEST_OUTPUT not in log:
        return base.with_problem("error", "the task's test patch did not apply")
    if truncated and END_TEST_OUTPUT not in log:
        return base.with_problem("error", "the test log exceeds the sandbox's output limit")
    with tempfile.TemporaryDirectory(prefix="swe-srl-log-") as tmp:
        path = Path(tmp) / "test_output.txt"
        path.write_text(log)
        tests, found = get_logs_eval(_parser_spec(run_spec), str(path))
    if not found:
        tail = log.strip()[-300:]
        return base.with_problem("error", f"tests crashed or did not run (exit status {code}): {tail}")
    return dataclasses.replace(base, tests=dict(tests))


# -- verdict ----------------------------------------------------------------------------------------
def _with_parser_keys(tests: dict[str, str], spec) -> dict[str, str]:
    """Exact ids, plus the keys the task's swebench parser makes of them (ids with spaces cut)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    # One line per test whatever its id holds: a line break in an id (a parametrize id taken from a
    # library object's name) must not give the parser a second line naming another test.
    synthetic = "\n".join(f"{status} {' '.join(test_id.splitlines())}" for test_id, status in tests.items())
    parsed = PARSER_REGISTRY[spec.log_parser](synthetic, spec)
    return {**parsed, **tests}


def effective_statuses(task: Task, run: RunStatuses, spec) -> dict[str, str]:
    """The status map graded: undeclared skips/xfails (all of them in a text log), any skip or xfail
    of a FAIL_TO_PASS test and every XPASS count as failures; records get the parser's keys too."""
    fail_to_pass = set(task.FAIL_TO_PASS)
    tests = {}
    for test_id, status in run.tests.items():
        forced = test_id in run.undeclared or not run.structured or test_id in fail_to_pass
        if status == "XPASS" or (status in ("SKIPPED", "XFAIL") and forced):
            status = "FAILED"
        tests[test_id] = status
    return _with_parser_keys(tests, spec) if run.structured else tests


def required_statuses(task: Task, tests: dict[str, str]) -> dict[str, str]:
    """The effective status of each FAIL_TO_PASS and PASS_TO_PASS test (swebench's id matching)."""
    from swebench.harness.grading import _resolve_case

    shown = {}
    for name in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS):
        key = _resolve_case(name, tests)
        shown[name] = tests[key] if key is not None else "MISSING"
    return shown


def grade_statuses(task: Task, run: RunStatuses, spec=None) -> LogGrade:
    """Resolved iff swebench's report says so on the effective statuses (see the module docstring)."""
    from swebench.harness.constants import EvalType, ResolvedStatus
    from swebench.harness.grading import get_eval_tests_report, get_resolution_status

    if run.state != "ran":
        return LogGrade(False, run.state, run.reason)
    spec = spec or swebench_test_spec(task)
    tests = effective_statuses(task, run, spec)
    gold = {"FAIL_TO_PASS": list(task.FAIL_TO_PASS), "PASS_TO_PASS": list(task.PASS_TO_PASS)}
    report = get_eval_tests_report(tests, gold, eval_type=EvalType(spec.eval_type))
    shown = required_statuses(task, tests)
    if get_resolution_status(report) == ResolvedStatus.FULL.value:
        return LogGrade(True, "resolved", "", shown)
    failing = [n for n, s in shown.items() if s != PASSING]
    forced = [n for n in shown if n in run.undeclared]
    why = f"{len(failing)} required test(s) not passing"
    if forced:
        why += f" ({len(forced)} skipped or xfailed by code outside the tests)"
    return LogGrade(False, "unresolved", why, shown)
