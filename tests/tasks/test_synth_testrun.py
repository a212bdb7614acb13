"""Whole-suite statuses with exact ids, and problem statements from what failing tests show."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.tasks.synth.statement import function_source, pytest_failure, unittest_failure, write_statement
from swe_srl.tasks.synth.testrun import parse_pytest_exact, parse_statuses

TESTS = """import pytest


@pytest.mark.parametrize("text, expected", [("2 years ago", "2 years ago"), ("a - b", "a - c"), ("x", "x")])
def test_spaces(text, expected):
    assert text == expected


class TestThing:
    def test_sum(self):
        assert sum([1, 2]) == 4

    def test_ok(self):
        assert True


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


@pytest.fixture(scope="module")
def pytest_log(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("proj")
    (root / "tests").mkdir()
    (root / "tests" / "test_things.py").write_text(TESTS)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--color=yes",
            "--tb=short",
            "tests",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return root, proc.stdout


def test_ids_with_spaces_are_kept_whole_and_colour_is_ignored(pytest_log):
    _, log = pytest_log
    statuses = parse_pytest_exact(log)
    assert statuses == {
        "tests/test_things.py::test_spaces[2 years ago-2 years ago]": "PASSED",
        "tests/test_things.py::test_spaces[a - b-a - c]": "FAILED",
        "tests/test_things.py::test_spaces[x-x]": "PASSED",
        "tests/test_things.py::TestThing::test_sum": "FAILED",
        "tests/test_things.py::TestThing::test_ok": "PASSED",
    }


def test_statuses_equal_swebench_on_ids_without_whitespace(pytest_log):
    import re

    from swebench.harness.log_parsers.python import parse_log_pytest

    _, log = pytest_log
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    ours = {k: v for k, v in parse_pytest_exact(log).items() if " " not in k}
    theirs = {k: v for k, v in parse_log_pytest(plain, None).items() if k in ours or "[" not in k}
    theirs = {k: v for k, v in theirs.items() if v != "SKIPPED"}
    assert ours == theirs


def test_statement_shows_reproduction_and_expected_vs_actual(pytest_log):
    root, log = pytest_log
    failing = ["tests/test_things.py::TestThing::test_sum"]
    assert "assert sum([1, 2]) == 4" in function_source(root, failing[0])
    assert "assert 3 == 4" in pytest_failure(log, failing[0])
    text = write_statement("proj", "1.0", failing, log, root, "pytest")
    assert "```python" in text and "assert 3 == 4" in text and failing[0] in text


UNITTEST_LOG = """test_a (tests.test_x.T.test_a) ... ok
test_b (tests.test_x.T.test_b) ... FAIL

======================================================================
FAIL: test_b (tests.test_x.T.test_b)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/testbed/tests/test_x.py", line 9, in test_b
    self.assertEqual(cache.maxsize, 2)
AssertionError: 3 != 2

----------------------------------------------------------------------
Ran 2 tests in 0.001s

FAILED (failures=1)
"""


def test_unittest_logs_use_swebench_django_parser_and_its_failure_text():
    statuses = parse_statuses(UNITTEST_LOG, "django")
    assert statuses["test_a (tests.test_x.T.test_a)"] == "PASSED"
    assert statuses["test_b (tests.test_x.T.test_b)"] == "FAILED"
    assert {t for t, s in statuses.items() if s == "PASSED"} == {"test_a (tests.test_x.T.test_a)"}
    assert unittest_failure(UNITTEST_LOG, "test_b (tests.test_x.T.test_b)").endswith("AssertionError: 3 != 2")
