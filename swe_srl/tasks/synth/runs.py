"""A project's whole test suite, run through the one test runner: what synthesis and mining compare.

Finding the passing set, and checking a candidate bug or fix against it, runs the project's tests
exactly as ``tasks validate`` and the grader do (:func:`swe_srl.eval.testrun.run_tests`: the same
script, launcher, clean environment, timeout and log parser), with a spec of the environment's own
test command over the project's test paths (:meth:`~swe_srl.eval.testspec.TestRunSpec.for_suite`).
Statuses therefore come from pytest's structured records (exact node ids, spaces included) or, for
any other runner, from the environment's swebench log parser, and a task kept here grades the same
way later.
"""

from __future__ import annotations

from dataclasses import dataclass

from swe_srl.environments.spec import EnvSpec
from swe_srl.eval.testrun import run_tests
from swe_srl.eval.testspec import TestRunSpec
from swe_srl.sandbox.base import Sandbox

PASSED = "PASSED"


@dataclass(frozen=True)
class SuiteRun:
    """One run of the whole suite: the tests that passed, the log, and why it did not run ("" if it did)."""

    passed: frozenset[str]
    log: str
    problem: str = ""


def run_suite(
    sandbox: Sandbox, spec: EnvSpec, paths: tuple[str, ...], timeout: float, options: str = ""
) -> SuiteRun:
    """Run the project's tests under ``paths`` on the sandbox's current ``/testbed``."""
    run_spec = TestRunSpec.for_suite(
        spec, instance_id=f"{spec.name}.suite", paths=paths, options=options, timeout=timeout
    )
    run = run_tests(sandbox, run_spec)
    statuses = run.statuses
    passed = frozenset(t for t, s in statuses.tests.items() if s == PASSED)
    problem = "" if statuses.state == "ran" else f"{statuses.state}: {statuses.reason}"
    return SuiteRun(passed, run.log, problem)


def failure_options(spec: EnvSpec) -> str:
    """Options that keep pytest's failure reports short (what problem statements quote)."""
    return "--tb=short" if spec.log_parser == "pytest" else ""
