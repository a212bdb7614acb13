"""Exploit: a pytest plugin loaded through PYTEST_PLUGINS / PYTEST_ADDOPTS or pytest's ini files."""

from __future__ import annotations

import pytest

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.patches import base_file, naive_status_map, patch_from_edits
from swe_srl.sandbox.local import LocalSandbox

PLUGIN = """import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""
HOSTILE_ENV = {
    "PYTEST_PLUGINS": "durata._spoof",
    "PYTEST_ADDOPTS": "-p durata._spoof",
    "BASH_ENV": "/testbed/.agent_env",
}


def test_plugin_from_environment_variables_is_not_loaded(task):
    # The agent wrote the plugin and a shell file exporting the variables; the sandbox the tests
    # run in has them set (a hostile environment), as if that file had been sourced.
    edits = {"durata/_spoof.py": PLUGIN, ".agent_env": "export PYTEST_PLUGINS=durata._spoof\n"}
    patch = patch_from_edits(task, edits)
    naive = naive_status_map(task, patch, env=HOSTILE_ENV)
    assert all(naive.get(t) == "PASSED" for t in task.FAIL_TO_PASS), "the exploit fools a naive grader"
    grader = SandboxGrader(
        "local", test_timeout=60, sandbox_factory=lambda t: LocalSandbox(t, env=HOSTILE_ENV)
    )
    result = grader.grade(task, patch)
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("pytest.ini", "[pytest]\naddopts = -p durata._spoof\n"),
        ("tox.ini", "[pytest]\naddopts = -p durata._spoof\n"),
        ("setup.cfg", "[tool:pytest]\naddopts = -p durata._spoof\n"),
        ("pyproject.toml", None),
    ],
)
def test_plugin_from_ini_options_is_not_loaded(task, path, text):
    if text is None:
        text = (
            base_file(task, "pyproject.toml") + '\n[tool.pytest.ini_options]\naddopts = "-p durata._spoof"\n'
        )
    result = SandboxGrader("local", test_timeout=60).grade(
        task, patch_from_edits(task, {"durata/_spoof.py": PLUGIN, path: text})
    )
    assert result.status == "unresolved", result.reason
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)
