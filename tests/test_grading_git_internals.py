"""Exploit: a model patch that writes into ``.git`` (a hook, ``core.fsmonitor``), so code of the
model runs when the grader's evaluation script calls git. ``git apply`` refuses such paths; the
grader's last-resort ``patch --fuzz`` must refuse them too."""

from __future__ import annotations

import pytest

from swe_srl.eval.grader import SandboxGrader, apply_model_patch, touches_git_dir
from swe_srl.sandbox import make_sandbox

HOOK = "#!/bin/sh\nprintf 'def test_negative_compound_duration(): pass\\n' > tests/test_issue_1.py\n"
PLANT_HOOK = (
    "diff --git a/.git/hooks/post-checkout b/.git/hooks/post-checkout\nnew file mode 100755\n"
    "--- /dev/null\n+++ b/.git/hooks/post-checkout\n@@ -0,0 +1,2 @@\n"
    + "".join(f"+{line}\n" for line in HOOK.splitlines())
)


@pytest.mark.parametrize(
    "header",
    [
        "+++ b/.git/config",
        "--- a/.git/hooks/pre-commit",
        "*** .git/config",
        "Index: .git/config",
        "diff --git a/x b/.git/config",
        "rename to .git/hooks/post-checkout",
        '+++ "b/.git/config"',
        '+++ "b/\\056git/hooks/post-checkout"',  # C-quoted: GNU patch unquotes it to .git/hooks
        'diff --git "a/x y" "b/.git/x y"',
    ],
)
def test_paths_inside_git_are_recognised(header):
    assert touches_git_dir(f"{header}\n@@ -1 +1 @@\n-a\n+b\n")


def test_ordinary_paths_are_not(task):
    assert not touches_git_dir(task.patch)
    assert not touches_git_dir("+++ b/docs/.gitignore\n+++ b/my.git/x\n+++ b/.github/workflows/ci.yml\n")


def test_a_patch_planting_a_git_hook_is_refused(task):
    with make_sandbox("local", task) as box:
        assert "invalid path" in apply_model_patch(box, PLANT_HOOK)
        assert box.run("ls .git/hooks/post-checkout").exit_code != 0


def test_hook_and_gold_fix_together_grade_as_patch_failed(task):
    result = SandboxGrader("local", test_timeout=60).grade(task, task.patch + PLANT_HOOK)
    assert result.status == "patch_failed" and "invalid path" in result.reason
