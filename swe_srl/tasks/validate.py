"""Prove that a task is sound by running its tests in a sandbox, before and after the gold patch.

A task is valid when, with ``test_patch`` applied to the base state (the bug present), every
FAIL_TO_PASS test fails and every PASS_TO_PASS test passes, and after ``patch`` (the gold fix) every
test of both lists passes. The tests run through the grader's own runner
(:func:`swe_srl.eval.testrun.run_tests`: same script, environment, timeout, canaries and log parser),
and the gold patch is applied with the grader's own chain of commands, so a task that validates
grades the same way. With ``log_dir`` both runs' logs are kept
(``<log_dir>/<instance>/before/test_output.txt`` and ``.../after/...``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.eval.grader import apply_model_patch, safe_name
from swe_srl.eval.logs import effective_statuses, required_statuses, swebench_test_spec
from swe_srl.eval.testrun import RUN_OUTPUT_LIMIT, run_tests
from swe_srl.eval.testspec import DEFAULT_TIMEOUT, TestRunSpec
from swe_srl.records import Task
from swe_srl.sandbox import make_sandbox
from swe_srl.sandbox.base import Sandbox, SandboxError

MAX_LISTED = 5  # tests named per problem line; the rest are counted


@dataclass(frozen=True)
class TaskValidation:
    """The outcome of validating one task; ``problems`` says why it is not valid."""

    instance_id: str
    valid: bool
    problems: tuple[str, ...] = ()
    before: dict[str, str] = field(default_factory=dict)  # test -> status with the bug present
    after: dict[str, str] = field(default_factory=dict)  # test -> status after the gold patch
    duration: float = 0.0
    logs: dict[str, str] = field(default_factory=dict)  # "before"/"after" -> kept test log

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "valid": self.valid,
            "problems": list(self.problems),
            "before": dict(self.before),
            "after": dict(self.after),
            "duration": self.duration,
            "logs": dict(self.logs),
        }


def _listed(tests: Sequence[str]) -> str:
    shown = ", ".join(tests[:MAX_LISTED])
    return shown + (f" and {len(tests) - MAX_LISTED} more" if len(tests) > MAX_LISTED else "")


def judge(task: Task, before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Problems with the task given the test statuses before and after the gold patch."""
    problems = []
    if not task.FAIL_TO_PASS:
        problems.append("FAIL_TO_PASS is empty: nothing shows the bug")
    checks = (
        ("FAIL_TO_PASS tests pass with the bug present", task.FAIL_TO_PASS, before, lambda s: s == "PASSED"),
        (
            "FAIL_TO_PASS tests do not pass after the gold patch",
            task.FAIL_TO_PASS,
            after,
            lambda s: s != "PASSED",
        ),
        (
            "PASS_TO_PASS tests do not pass with the bug present",
            task.PASS_TO_PASS,
            before,
            lambda s: s != "PASSED",
        ),
        (
            "PASS_TO_PASS tests do not pass after the gold patch",
            task.PASS_TO_PASS,
            after,
            lambda s: s != "PASSED",
        ),
    )
    for message, tests, statuses, bad in checks:
        offenders = [t for t in tests if bad(statuses.get(t, "MISSING"))]
        if offenders:
            problems.append(f"{message}: {_listed(offenders)}")
    return problems


class _Runs:
    """Run the task's tests in one sandbox, keeping each run's log under ``log_dir``."""

    def __init__(self, task: Task, timeout: float, log_dir: Path | None):
        self.task = task
        self.spec = TestRunSpec.from_task(task, timeout=timeout)
        self.swebench_spec = swebench_test_spec(task)
        self.log_dir = log_dir
        self.logs: dict[str, str] = {}

    def statuses(self, sandbox: Sandbox, when: str) -> tuple[dict[str, str], str]:
        """The effective status of every required test, and the problem with the run ("" if none)."""
        run = run_tests(sandbox, self.spec)
        if self.log_dir is not None:
            path = self.log_dir / safe_name(self.task.instance_id) / when / "test_output.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(run.log, encoding="utf-8", errors="replace")
            self.logs[when] = str(path.relative_to(self.log_dir.parent))
        if run.statuses.state != "ran":
            return {}, f"tests {when} the gold patch: {run.statuses.state}: {run.statuses.reason}"
        tests = effective_statuses(self.task, run.statuses, self.swebench_spec)
        return required_statuses(self.task, tests), ""


def _run_both(sandbox: Sandbox, runs: _Runs) -> tuple[list[str], dict, dict]:
    before, problem = runs.statuses(sandbox, "before")
    if problem:
        return [problem], before, {}
    sandbox.reset()
    why = apply_model_patch(sandbox, runs.task.patch) if runs.task.patch.strip() else ""
    if why:
        return [f"patch does not apply: {why[:500]}"], before, {}
    after, problem = runs.statuses(sandbox, "after")
    if problem:
        return [problem], before, after
    return judge(runs.task, before, after), before, after


def validate_task(
    task: Task,
    sandbox_kind: str = "local",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sandbox_options: dict[str, Any] | None = None,
    log_dir: Path | None = None,
) -> TaskValidation:
    """Run ``task``'s tests in a fresh sandbox with the bug and after the gold patch, and judge them."""
    start = time.monotonic()
    runs = _Runs(task, timeout, log_dir)
    options = {"output_limit": RUN_OUTPUT_LIMIT, **(sandbox_options or {})}
    try:
        with make_sandbox(sandbox_kind, task, **options) as sandbox:
            problems, before, after = _run_both(sandbox, runs)
    except SandboxError as exc:
        problems, before, after = [f"sandbox failed: {exc}"], {}, {}
    return TaskValidation(
        instance_id=task.instance_id,
        valid=not problems,
        problems=tuple(problems),
        before=before,
        after=after,
        duration=round(time.monotonic() - start, 3),
        logs=dict(runs.logs),
    )
