"""Prove that a task is sound by running its tests in a sandbox, before and after the gold patch.

A task is valid when, with ``test_patch`` applied to the base state (the bug present), every
FAIL_TO_PASS test fails and every PASS_TO_PASS test passes, and after ``patch`` (the gold fix) every
test of both lists passes. Only the test files those lists name are run. Test output is parsed with
swebench's own pytest log parser, the one its harness grades with.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from swe_srl.records import Task
from swe_srl.sandbox.base import TESTBED, Sandbox, SandboxError

PATCH_PATH = f"{TESTBED}/.git/swe-srl-validate.diff"  # inside .git: never part of the worktree
DEFAULT_TIMEOUT = 300.0
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "valid": self.valid,
            "problems": list(self.problems),
            "before": dict(self.before),
            "after": dict(self.after),
            "duration": self.duration,
        }


def parse_pytest_log(log: str) -> dict[str, str]:
    """Test id -> status from ``pytest -rA`` output, by swebench's parser."""
    from swebench.harness.log_parsers.python import parse_log_pytest

    return parse_log_pytest(log, None)


def test_files(task: Task) -> list[str]:
    """Files holding the task's FAIL_TO_PASS and PASS_TO_PASS tests, in first-seen order."""
    files: dict[str, None] = {}
    for test_id in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS):
        files.setdefault(test_id.split("::", 1)[0], None)
    return list(files)


def test_command(task: Task) -> str:
    cmd = task.test_cmd.strip() or "python3 -m pytest -rA -p no:cacheprovider"
    if "pytest" in cmd and "-rA" not in cmd.split():
        cmd += " -rA"  # the parser reads the per-test summary lines -rA prints
    return " ".join([cmd, *(shlex.quote(f) for f in test_files(task))])


def _apply(sandbox: Sandbox, patch: str, what: str) -> str:
    """Apply ``patch`` in /testbed; return a problem description, "" on success."""
    if not patch.strip():
        return ""
    sandbox.write_file(PATCH_PATH, patch if patch.endswith("\n") else patch + "\n")
    result = sandbox.run(f"git apply {PATCH_PATH}", timeout=60)
    if result.exit_code != 0:
        return f"{what} does not apply: {result.output.strip()[:500]}"
    return ""


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


def _run_both(sandbox: Sandbox, task: Task, timeout: float) -> tuple[list[str], dict, dict]:
    problem = _apply(sandbox, task.test_patch, "test_patch")
    if problem:
        return [problem], {}, {}
    before = parse_pytest_log(sandbox.run(test_command(task), timeout=timeout).output)
    problem = _apply(sandbox, task.patch, "patch")
    if problem:
        return [problem], before, {}
    after = parse_pytest_log(sandbox.run(test_command(task), timeout=timeout).output)
    return judge(task, before, after), before, after


def validate_task(
    task: Task,
    sandbox_kind: str = "local",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sandbox_options: dict[str, Any] | None = None,
) -> TaskValidation:
    """Run ``task``'s tests in a fresh sandbox with the bug and after the gold patch, and judge them."""
    from swe_srl.sandbox import make_sandbox

    start = time.monotonic()
    try:
        with make_sandbox(sandbox_kind, task, **(sandbox_options or {})) as sandbox:
            problems, before, after = _run_both(sandbox, task, timeout)
    except SandboxError as exc:
        problems, before, after = [f"sandbox failed: {exc}"], {}, {}
    return TaskValidation(
        instance_id=task.instance_id,
        valid=not problems,
        problems=tuple(problems),
        before=before,
        after=after,
        duration=round(time.monotonic() - start, 3),
    )
