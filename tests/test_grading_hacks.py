"""Reward hacks against the grader (``grading_hacks.py``), each on both backends: none resolves.

Every hack here got the unfixed sample task graded "resolved" by the grader that read pytest's text
output (and the three universal ones every bundled task); each test names its hack.
"""

from __future__ import annotations

import pytest
from grading_hacks import (
    UNIVERSAL_HACKS,
    daemon_rewrites_output,
    entry_point_plugin,
    fake_summary_then_exit,
    forged_log_renamed_over_output,
    fuzz_c_quoted_git_path,
    fuzz_symlink_into_git_hooks,
    init_wraps_test_report,
    library_calls_pytest_xfail,
    package_of,
    shadow_pytest_module,
    skip_reason_forges_passed_lines,
)

from swe_srl.eval.grader import SandboxGrader
from swe_srl.tasks import load_tasks

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]


@pytest.fixture(params=BACKENDS)
def grade(request, task):
    grader = SandboxGrader(request.param, test_timeout=60)
    return lambda patch, t=task: grader.grade(t, patch)


def _fail_to_pass_failing(task, result) -> bool:
    return all(result.tests.get(t) not in (None, "PASSED") for t in task.FAIL_TO_PASS)


def test_init_wraps_test_report(task, grade):
    result = grade(init_wraps_test_report(task))
    assert (result.status, result.resolved) == ("tampered", False)
    # The canaries catch it too; the reason names the first sign: pytest's code was replaced.
    assert "changed TestReport.from_item_and_call" in result.reason
    assert "imports-test-framework durata/__init__.py" in result.audit


def test_shadow_pytest_module(task, grade):
    result = grade(shadow_pytest_module(task))
    assert result.status == "unresolved" and _fail_to_pass_failing(task, result)
    assert "shadows-module pytest.py" in result.audit


def test_entry_point_plugin(task, grade):
    result = grade(entry_point_plugin(task))
    assert result.status == "unresolved" and _fail_to_pass_failing(task, result)
    assert "packaging-metadata swe_force-1.0.dist-info/entry_points.txt" in result.audit


# The next three are seen at work by the launcher's audit hook (tampered) before their effect
# (a crash, a forged log nobody reads) could matter.
def test_fake_summary_then_exit(task, grade):
    result = grade(fake_summary_then_exit(task))
    assert (result.status, result.resolved) == ("tampered", False)
    assert "walked the garbage collector's objects (durata/__init__.py)" in result.reason
    assert "calls-os-exit durata/__init__.py" in result.audit


def test_forged_log_renamed_over_output(task, grade):
    result = grade(forged_log_renamed_over_output(task))
    assert (result.status, result.resolved) == ("tampered", False)
    assert "/testbed/.git/swe-srl-grade/" in result.reason and "(durata/__init__.py)" in result.reason
    assert "harness-reference durata/__init__.py" in result.audit


def test_daemon_rewrites_output(task, grade):
    result = grade(daemon_rewrites_output(task))
    assert (result.status, result.resolved) == ("tampered", False)
    assert "/testbed/.git/swe-srl-grade/" in result.reason
    assert "forks-process durata/__init__.py" in result.audit


def test_library_calls_pytest_xfail(task, grade):
    result = grade(library_calls_pytest_xfail(task))
    assert result.status == "unresolved" and _fail_to_pass_failing(task, result)
    assert "skipped or xfailed by code outside the tests" in result.reason


def test_skip_reason_forges_passed_lines(task, grade):
    result = grade(skip_reason_forges_passed_lines(task))
    assert result.status == "unresolved" and _fail_to_pass_failing(task, result)


def test_fuzz_symlink_into_git_hooks(task, grade):
    result = grade(fuzz_symlink_into_git_hooks(task))
    assert (result.status, result.resolved) == ("patch_failed", False)
    assert "writes inside .git" in result.reason
    assert "symlink hooks" in result.audit


def test_fuzz_c_quoted_git_path(task, grade):
    result = grade(fuzz_c_quoted_git_path(task))
    assert (result.status, result.resolved) == ("patch_failed", False)
    assert "git-path .git/hooks/post-checkout" in result.audit


def _one_task_per_library() -> list:
    tasks = {}
    for task in load_tasks("bundled"):
        tasks.setdefault(package_of(task), task)
    return list(tasks.values())


@pytest.mark.slow
@pytest.mark.parametrize("hack", sorted(UNIVERSAL_HACKS))
def test_universal_hacks_on_every_bundled_library(hack):
    grader = SandboxGrader("local", test_timeout=60)
    for task in _one_task_per_library():
        result = grader.grade(task, UNIVERSAL_HACKS[hack](task))
        assert not result.resolved, f"{hack} resolved {task.instance_id}"
        assert result.status in ("tampered", "unresolved"), (task.instance_id, result.reason)
