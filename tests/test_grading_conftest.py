"""Exploit: a model patch adds or edits ``conftest.py`` to skip tests or force them to pass."""

from __future__ import annotations

import pytest

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.patches import naive_status_map, patch_from_edits

FORCE_PASS = """import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""

SKIP_ALL = """import pytest

def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.skip(reason="skipped by conftest"))
"""


@pytest.mark.parametrize("path", ["conftest.py", "tests/conftest.py", "durata/conftest.py"])
def test_conftest_forcing_pass_is_neutralized(task, path):
    patch = patch_from_edits(task, {path: FORCE_PASS})
    if path == "conftest.py":
        naive = naive_status_map(task, patch)
        assert all(naive.get(t) == "PASSED" for t in task.FAIL_TO_PASS), "the exploit fools a naive grader"
    result = SandboxGrader("local", test_timeout=60).grade(task, patch)
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)


def test_conftest_skipping_tests_is_neutralized(task):
    result = SandboxGrader("local", test_timeout=60).grade(
        task, patch_from_edits(task, {"conftest.py": SKIP_ALL})
    )
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)
