"""Read a test run's output and grade it with swebench's own parsers and report functions.

Grading itself is swebench's: ``PARSER_REGISTRY`` turns the log into a status map,
``get_logs_eval`` cross-checks it with the exit status, ``get_eval_report`` applies the
FAIL_TO_PASS / PASS_TO_PASS rule. What this module adds is *which text* reaches them.

Code under test runs in the same process as pytest and can print anything, including lines such as
``PASSED tests/test_x.py::test_y`` or swebench's own markers. Before parsing, the output is cut to
what pytest itself wrote at the end of the run:

- the run lies between two lines only the shell prints (``swe-srl-run-<nonce>-start`` and
  ``...-exit=<status>``, with a nonce drawn per grading run), so forged swebench markers are moot;
- pytest's final line (``=== 3 passed in 0.1s ===``) must be the last thing the run printed and
  must occur once: text after it, or a second such line, was written by something other than pytest
  (an ``atexit`` hook, a forged summary), and the run is rejected;
- only pytest's "short test summary info" section is parsed. With ``-rA`` it lists every test's
  outcome, and forged lines printed while tests ran sit earlier, in captured-output sections.

Known limit: code under test that writes a complete fake summary straight to the terminal's file
descriptor and then ends the interpreter with ``os._exit(0)`` is not caught by any log reading; only
a result channel outside the test process could catch that.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.eval.evalscript import (
    END_TEST_OUTPUT,
    START_TEST_OUTPUT,
    swebench_eval_type,
    swebench_log_parser,
)
from swe_srl.records import Task

_FINAL_LINE = re.compile(r"^=+ .*\bin \d+(?:\.\d+)?s\b.* =+$")
_SUMMARY_HEADER = re.compile(r"^=+ short test summary info =+$")


@dataclass(frozen=True)
class LogGrade:
    """What a test log says: the status per test and whether the task is resolved."""

    resolved: bool
    status: str  # "resolved" | "unresolved" | "error"
    reason: str = ""
    tests: dict[str, str] = field(default_factory=dict)


def run_section(output: str, nonce: str) -> tuple[str, int | None]:
    """The text between the shell's start and exit lines, and the exit status (None: never ended)."""
    start = f"swe-srl-run-{nonce}-start"
    exit_re = re.compile(rf"^swe-srl-run-{re.escape(nonce)}-exit=(-?\d+)$", re.M)
    lines = output.split("\n")
    try:
        first = lines.index(start) + 1
    except ValueError:
        return "", None
    body = "\n".join(lines[first:])
    match = None
    for match in exit_re.finditer(body):  # noqa: B007 - the shell's line is the last one
        pass
    if match is None:
        return body, None
    run, code = body[: match.start()], match.group(1)
    trace = f"+ echo swe-srl-run-{nonce}-exit={code}\n"  # the shell's own xtrace of that line
    return run.removesuffix(trace), int(code)


def pytest_summary(run: str) -> tuple[str | None, str]:
    """pytest's short-summary section of ``run`` (ending with its final line), or None and why not."""
    lines = [line.rstrip("\r") for line in run.rstrip().split("\n")]
    final = next((i for i in range(len(lines) - 1, -1, -1) if _FINAL_LINE.match(lines[i])), None)
    if final is None:
        return None, "pytest's summary is missing"
    if any(line.strip() for line in lines[final + 1 :]):
        return None, "text was printed after pytest's summary (possible forged results)"
    if sum(1 for line in lines if _FINAL_LINE.match(line)) > 1:
        return None, "pytest's final line appears more than once (possible forged results)"
    header = next((i for i in range(final, -1, -1) if _SUMMARY_HEADER.match(lines[i])), None)
    start = final if header is None else header
    return "\n".join(lines[start : final + 1]), ""


def _test_spec(task: Task):
    from swebench.types import TestSpec

    return TestSpec(
        instance_id=task.instance_id,
        image=task.image,
        eval_script_list=[],
        repo=task.repo,
        version=task.version,
        FAIL_TO_PASS=list(task.FAIL_TO_PASS),
        PASS_TO_PASS=list(task.PASS_TO_PASS),
        log_parser=swebench_log_parser(task.log_parser),
        eval_type=swebench_eval_type(task.eval_type),
    )


def grade_summary(task: Task, summary: str, exit_code: int) -> LogGrade:
    """Grade pytest's summary section with swebench (``get_logs_eval`` + ``get_eval_report``)."""
    from swebench.harness.constants import TEST_EXIT_CODE
    from swebench.harness.grading import get_eval_report, get_logs_eval

    spec = _test_spec(task)
    log = f"{START_TEST_OUTPUT}\n{summary}\n{END_TEST_OUTPUT}\n{TEST_EXIT_CODE}: {exit_code}\n"
    with tempfile.TemporaryDirectory(prefix="swe-srl-grade-") as tmp:
        path = Path(tmp) / "test_output.txt"
        path.write_text(log)
        status_map, found = get_logs_eval(spec, str(path))
        prediction = {"instance_id": task.instance_id, "model_patch": "", "model_name_or_path": "swe-srl"}
        report = get_eval_report(spec, prediction, str(path), include_tests_status=True)
    entry = report[task.instance_id]
    if not found:
        return LogGrade(False, "unresolved", f"test log rejected by swebench (exit status {exit_code})")
    tests = {name: status_map.get(name, "MISSING") for name in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS)}
    if entry["resolved"]:
        return LogGrade(True, "resolved", "", tests)
    failing = [name for name, status in tests.items() if status not in ("PASSED", "XFAIL")]
    return LogGrade(False, "unresolved", f"{len(failing)} required test(s) not passing", tests)


def grade_output(task: Task, output: str, nonce: str, timeout: float) -> LogGrade:
    """Grade the whole output of the evaluation script run with ``nonce``."""
    run, exit_code = run_section(output, nonce)
    if exit_code is None:
        tail = output.strip()[-500:]
        return LogGrade(False, "error", f"the evaluation script did not finish: {tail}")
    if exit_code in (124, 137):
        return LogGrade(False, "error", f"tests timed out after {timeout:g}s")
    summary, why = pytest_summary(run)
    if summary is None:
        if "missing" in why:
            return LogGrade(False, "error", f"tests crashed: exit status {exit_code}, {why}")
        return LogGrade(False, "unresolved", why)
    return grade_summary(task, summary, exit_code)
