"""Exploit: the model edits, deletes or pre-creates test files instead of fixing the code."""

from __future__ import annotations

from swe_srl.eval.patches import base_file, patch_from_edits

STUB_TESTS = """import pytest

def test_negative_compound_duration():
    pass

def test_sign_separated_by_space():
    pass

@pytest.mark.parametrize("seconds", [-5400, -3723, -90061])
def test_negative_roundtrip(seconds):
    pass
"""


def test_precreated_issue_tests_are_replaced_by_the_real_ones(task, grader):
    result = grader.grade(task, patch_from_edits(task, {"tests/test_issue_1.py": STUB_TESTS}))
    assert result.status == "unresolved", result.reason
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)


def test_deleted_and_edited_tests_are_restored(task, grader):
    edits = {
        "tests/test_units.py": None,
        "tests/test_parser.py": "def test_nothing():\n    pass\n",
    }
    result = grader.grade(task, patch_from_edits(task, edits))
    assert result.status == "unresolved"
    assert all(result.tests[t] == "PASSED" for t in task.PASS_TO_PASS)  # restored, so they ran


def test_gold_fix_with_test_edits_still_resolves(task, grader):
    gold_parser = _apply_gold(task)
    edits = {
        "durata/parser.py": gold_parser,
        "tests/test_units.py": None,
        "tests/test_issue_1.py": STUB_TESTS,
    }
    result = grader.grade(task, patch_from_edits(task, edits))
    assert result.status == "resolved", result.reason


def _apply_gold(task) -> str:
    from swe_srl.policy.scripted import patch_to_actions

    text = base_file(task, "durata/parser.py")
    for action in patch_to_actions(task.patch):
        text = text.replace(str(action.args["old_str"]), str(action.args["new_str"]), 1)
    return text


def test_tests_directory_replaced_by_a_symlink_is_restored(task, grader, tmp_path):
    import subprocess

    from swe_srl.sandbox.workspace import prepare_base_repo

    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(prepare_base_repo(task)), str(repo)], check=True)
    (repo / "fake").mkdir()
    (repo / "fake" / "test_issue_1.py").write_text(STUB_TESTS)
    subprocess.run("git rm -rq tests && ln -s fake tests && git add -A", shell=True, cwd=repo, check=True)
    patch = subprocess.run(
        ["git", "diff", "--cached", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout
    assert "new file mode 120000" in patch
    result = grader.grade(task, patch)
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)
