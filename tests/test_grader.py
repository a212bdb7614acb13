"""The grader on the sample task, in real bubblewrap sandboxes with real git and pytest."""

from __future__ import annotations

import dataclasses

import pytest

from swe_srl.eval.grader import SandboxGrader, binary_patch_reason
from swe_srl.eval.patches import base_file, patch_from_edits
from swe_srl.eval.stats import wilson_interval

PARSER = "durata/parser.py"


def test_gold_patch_resolves(task, grader):
    result = grader.grade(task, task.patch)
    assert result.status == "resolved", result.reason
    assert result.resolved
    assert set(result.tests) == set(task.FAIL_TO_PASS) | set(task.PASS_TO_PASS)
    assert set(result.tests.values()) == {"PASSED"}


def test_empty_patch_is_unresolved(task, grader):
    result = grader.grade(task, "")
    assert (result.status, result.resolved, result.reason) == ("unresolved", False, "empty patch")


def test_unrelated_patch_fails_the_fail_to_pass_tests(task, grader):
    patch = patch_from_edits(task, {"durata/notes.py": "NOTE = 1\n"})
    result = grader.grade(task, patch)
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)
    assert all(result.tests[t] == "PASSED" for t in task.PASS_TO_PASS)


def test_patch_that_does_not_apply_reports_gits_reason(task, grader):
    stale = task.patch.replace("seconds = _parse_components(body, text)", "seconds = 0")
    wrong = task.patch.replace("return _parse_components(stripped, text)", "return nothing_like_this")
    result = grader.grade(task, wrong if wrong != task.patch else stale)
    assert result.status == "patch_failed"
    assert "git apply" in result.reason and "patch does not apply" in result.reason


def test_drifted_context_applies_with_fuzz_as_in_swebench(task, grader):
    """A leading context line that no longer matches: git refuses, ``patch --fuzz`` (swebench's last
    resort) applies it, so the task is graded instead of failing to apply."""
    context = " from durata.units import unit_seconds\n"
    drifted = task.patch.replace(context, " from durata.units import secs\n", 1)
    assert drifted != task.patch
    result = grader.grade(task, drifted)
    assert result.status == "resolved", result.reason


def test_refused_or_crashing_patches_leave_a_clean_tree(task):
    from swe_srl.eval.grader import apply_model_patch
    from swe_srl.sandbox import make_sandbox

    # The first hunk applies, the second cannot: --reject and patch each apply half before failing.
    half = task.patch.replace("return _parse_components(stripped, text)", "return nothing_like_this")
    # A new file whose header line is cut: git 2.39 aborts on it, holding .git/index.lock; GNU patch,
    # the last resort, applies it.
    aborts = (
        "diff --git a/new.txt b/new.txt\nne\\ No newline at end of filew file mode 100644\n"
        "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n"
    )
    with make_sandbox("local", task) as box:
        assert "patch does not apply" in apply_model_patch(box, half)
        assert box.diff() == ""
        assert apply_model_patch(box, aborts) == ""
        assert box.run("ls .git/index.lock").exit_code != 0
        assert "+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n" in box.diff()


def test_garbage_patch_is_patch_failed(task, grader):
    result = grader.grade(task, "this is not a diff\n")
    assert result.status == "patch_failed"
    assert "No valid patches" in result.reason or "no valid patches" in result.reason.lower()


def test_binary_patch_is_patch_failed(task, grader):
    patch = (
        "diff --git a/durata/logo.png b/durata/logo.png\nnew file mode 100644\nindex 0000000..1111111\n"
        "GIT binary patch\nliteral 4\nLcmZ?wbaV#*0Am1Z\n\nliteral 0\nHcmV?d00001\n"
    )
    assert binary_patch_reason(patch)
    result = grader.grade(task, patch)
    assert (result.status, result.reason) == ("patch_failed", "binary patches are not supported")


def test_hanging_tests_end_as_timed_out_error(task):
    source = base_file(task, PARSER).replace(
        "def parse_duration(text):\n", "def parse_duration(text):\n    while True:\n        pass\n", 1
    )
    assert "while True" in source
    result = SandboxGrader("local", test_timeout=3).grade(task, patch_from_edits(task, {PARSER: source}))
    assert result.status == "error"
    assert result.reason == "error: tests timed out" or "timed out" in result.reason
    assert result.duration < 40


def test_crashing_test_process_is_an_error(task, grader):
    crash = "import os\nos._exit(0)\n"  # the interpreter vanishes while importing the package
    patch = patch_from_edits(task, {"durata/__init__.py": crash + base_file(task, "durata/__init__.py")})
    result = grader.grade(task, patch)
    assert result.status == "error"
    assert result.reason.startswith("tests crashed")


def test_broken_test_patch_is_an_error(task, grader):
    # a test patch that creates a file the base already has cannot apply
    broken = dataclasses.replace(
        task, test_patch=task.test_patch.replace("tests/test_issue_1.py", "tests/test_units.py")
    )
    result = grader.grade(broken, task.patch)
    assert result.status == "error"
    assert "test patch" in result.reason


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(0, 0, 0.0, 1.0), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634)],
)
def test_wilson_interval(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4) and got[1] == pytest.approx(hi, abs=1e-4)


def test_sandbox_grader_is_the_environments_grader():
    from swe_srl.episode import run_sample_episode

    trajectory = run_sample_episode("local", grader=SandboxGrader("local", test_timeout=60))
    assert trajectory.resolved is True
    assert trajectory.metadata["reward"] == 1.0


def test_grader_keeps_the_test_log_and_names_it_in_the_result(task, tmp_path):
    grader = SandboxGrader("local", test_timeout=60, log_dir=tmp_path / "logs")
    result = grader.grade(task, task.patch)
    assert result.log == "logs/swe-srl__durata-1/test_output.txt"
    log = (tmp_path / result.log).read_text()
    assert ">>>>> Start Test Output" in log and "short test summary info" in log
    assert "PASSED tests/test_issue_1.py::test_sign_separated_by_space" in log


def test_oversized_patch_is_patch_failed_and_never_applied(task):
    from swe_srl.sandbox.base import PATCH_LIMIT_BYTES, truncate_patch

    started = []

    def factory(t):
        started.append(t)
        raise AssertionError("an oversized patch must not reach a sandbox")

    grader = SandboxGrader("local", sandbox_factory=factory)
    huge = task.patch + "+" + "x" * PATCH_LIMIT_BYTES + "\n"
    cut = truncate_patch(huge)
    for patch, words in ((cut, "was cut"), (huge, "larger than 10 MiB")):
        result = grader.grade(task, patch)
        assert result.status == "patch_failed" and words in result.reason, result.reason
    assert started == []
