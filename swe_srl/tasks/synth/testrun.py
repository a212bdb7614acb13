"""Running a whole project's tests in its environment, to find what passes (synthesis and mining).

Task validation and grading run only a task's own tests through the grader's runner; discovery
needs every test of the project at once, with exact ids. For pytest the ids come from ``-rA``'s
summary lines read whole (``PASSED tests/test_x.py::test_y[1 second]``), not split on whitespace as
swebench's parser does, so parametrized ids with spaces survive; on ids without whitespace the
statuses equal swebench's ``parse_log_pytest``. Other runners use swebench's ``PARSER_REGISTRY``
(``django`` reads ``unittest -v`` output).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from swe_srl.environments.spec import EnvSpec
from swe_srl.sandbox.base import TESTBED, Sandbox, SandboxError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STATUSES = ("PASSED", "FAILED", "ERROR", "XFAIL", "XPASS", "SKIPPED")


@dataclass(frozen=True)
class TestRun:
    """The statuses of one run (test id -> PASSED/FAILED/...) and its log."""

    statuses: dict[str, str]
    log: str
    timed_out: bool

    @property
    def passed(self) -> set[str]:
        return {t for t, s in self.statuses.items() if s == "PASSED"}


def _summary_id(rest: str) -> str:
    """The node id at the start of a summary line's remainder (`` - message`` dropped)."""
    bracket = rest.find("[", rest.find("::"))
    if bracket != -1:
        close = rest.rfind("] - ")
        end = close + 1 if close != -1 else (rest.rfind("]") + 1 or len(rest))
        return rest[:end]
    return rest.split(" - ", 1)[0].strip()


def parse_pytest_exact(log: str) -> dict[str, str]:
    """Test id -> status from ``pytest -rA`` summary lines, ids kept whole."""
    statuses: dict[str, str] = {}
    for raw in log.splitlines():
        line = _ANSI.sub("", raw).rstrip()
        status, _, rest = line.partition(" ")
        if status in _STATUSES and "::" in rest and not rest.startswith("["):
            statuses[_summary_id(rest)] = status
    return statuses


def parse_statuses(log: str, log_parser: str) -> dict[str, str]:
    """Statuses by the environment's log parser (see the module docstring)."""
    if log_parser == "pytest":
        return parse_pytest_exact(log)
    from swebench.harness.log_parsers import PARSER_REGISTRY

    from swe_srl.eval.testspec import swebench_log_parser

    return dict(PARSER_REGISTRY[swebench_log_parser(log_parser)](_ANSI.sub("", log), None))


def whole_suite_command(spec: EnvSpec, paths: tuple[str, ...], options: str = "") -> str:
    return " ".join([spec.test_cmd, options, *(shlex.quote(p) for p in paths)]).replace("  ", " ")


def run_tests(
    sandbox: Sandbox, spec: EnvSpec, paths: tuple[str, ...], timeout: float, options: str = ""
) -> TestRun:
    """Run the project's tests under ``paths`` in ``sandbox`` and parse the statuses."""
    # Inside .git: never part of the tree or its diff; read back whole (a command's output is capped).
    out = f"{TESTBED}/.git/swe-srl-tests.log"
    command = f"{whole_suite_command(spec, paths, options)} > {out} 2>&1; echo exit=$?"
    result = sandbox.run(command, timeout=timeout)
    try:
        log = sandbox.read_file(out).decode("utf-8", errors="replace")
    except SandboxError:
        log = result.output
    return TestRun(parse_statuses(log, spec.log_parser), log, result.timed_out)
