"""Exploit: ``sitecustomize.py`` / ``usercustomize.py`` / ``.pth`` code that Python runs at start-up."""

from __future__ import annotations

import pytest

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.patches import naive_status_map, patch_from_edits
from swe_srl.sandbox.local import LocalSandbox

PLUGIN = """import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""
SITECUSTOMIZE = "import os\nos.environ['PYTEST_PLUGINS'] = 'durata._spoof'\n"
PYTHONPATH_ENV = {"PYTHONPATH": "/testbed"}  # a sandbox where /testbed is on Python's start-up path


@pytest.mark.parametrize("name", ["sitecustomize.py", "usercustomize.py"])
def test_startup_hooks_are_removed(task, name):
    patch = patch_from_edits(task, {"durata/_spoof.py": PLUGIN, name: SITECUSTOMIZE})
    if name == "sitecustomize.py":
        naive = naive_status_map(task, patch, env=PYTHONPATH_ENV)
        assert all(naive.get(t) == "PASSED" for t in task.FAIL_TO_PASS), "the exploit fools a naive grader"
    grader = SandboxGrader(
        "local", test_timeout=60, sandbox_factory=lambda t: LocalSandbox(t, env=PYTHONPATH_ENV)
    )
    result = grader.grade(task, patch)
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)


def test_pth_file_is_removed(task):
    edits = {
        "durata/_spoof.py": PLUGIN,
        "spoof.pth": "import os; os.environ['PYTEST_PLUGINS'] = 'durata._spoof'\n",
    }
    result = SandboxGrader("local", test_timeout=60).grade(task, patch_from_edits(task, edits))
    assert result.status == "unresolved"
