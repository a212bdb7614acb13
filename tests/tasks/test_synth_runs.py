"""Whole-suite runs through the one test runner (exact ids, the environment's parser), and problem
statements written from what the failing tests show in that runner's log."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.environments.spec import EnvSpec
from swe_srl.records import Task
from swe_srl.sandbox import make_sandbox
from swe_srl.sandbox.base import TESTBED
from swe_srl.tasks.synth.runs import failure_options, run_suite
from swe_srl.tasks.synth.statement import function_source, pytest_failure, unittest_failure, write_statement

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]
TESTS = """import pytest

from proj.core import total


@pytest.mark.parametrize("text, expected", [("2 years ago", "2 years ago"), ("a - b", "a - c"), ("x", "x")])
def test_spaces(text, expected):
    assert text == expected


class TestThing:
    def test_sum(self):
        assert total([1, 2]) == 3

    def test_ok(self):
        assert True


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""
UNITTESTS = """import unittest

from proj.core import total


class T(unittest.TestCase):
    def test_a(self):
        self.assertEqual(total([1]), 1)

    def test_b(self):
        self.assertEqual(total([1, 2]), 3)
"""
CORE = "def total(items):\n    return sum(items)\n"


def _project(root: Path) -> Path:
    files = {
        "proj/__init__.py": "",
        "proj/core.py": CORE,
        "tests/__init__.py": "",
        "tests/test_things.py": TESTS,
        "tests/test_unit.py": UNITTESTS,
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--color=yes"\n',
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _spec(tree: Path, **fields) -> EnvSpec:
    values = {"test_cmd": "python3 -m pytest -rA -p no:cacheprovider", **fields}
    return EnvSpec(name="proj-1.0", repo="demo/proj", version="1.0", repo_dir=str(tree), **values)


def _task(tree: Path) -> Task:
    return Task(instance_id="proj.source", repo="demo/proj", base_commit="", problem_statement="-",
                repo_dir=str(tree))  # fmt: skip


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("proj"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_suite_passing_set_has_exact_ids_and_a_mutation_breaks_it(tree, backend):
    spec = _spec(tree)
    with make_sandbox(backend, _task(tree)) as sandbox:
        baseline = run_suite(sandbox, spec, ("tests/test_things.py",), timeout=120)
        sandbox.reset()
        sandbox.write_file(f"{TESTBED}/proj/core.py", CORE.replace("sum(items)", "sum(items) + 1"))
        broken = run_suite(sandbox, spec, ("tests/test_things.py",), 120, options=failure_options(spec))
    assert baseline.problem == "" and baseline.passed == {
        "tests/test_things.py::test_spaces[2 years ago-2 years ago]",
        "tests/test_things.py::test_spaces[x-x]",
        "tests/test_things.py::TestThing::test_sum",
        "tests/test_things.py::TestThing::test_ok",
    }
    assert baseline.passed - broken.passed == {"tests/test_things.py::TestThing::test_sum"}
    failing = ["tests/test_things.py::TestThing::test_sum"]
    assert "assert 4 == 3" in pytest_failure(broken.log, failing[0])
    text = write_statement("proj", "1.0", failing, broken.log, tree, "pytest")
    assert "```python" in text and "assert total([1, 2]) == 3" in text and "assert 4 == 3" in text


def test_a_run_with_no_paths_is_what_the_configuration_collects(tree):
    with make_sandbox("local", _task(tree)) as sandbox:
        run = run_suite(sandbox, _spec(tree), (), timeout=120)
    assert {"tests/test_unit.py::T::test_b", "tests/test_things.py::TestThing::test_ok"} <= run.passed


def test_a_non_pytest_runner_is_read_by_the_environments_parser(tree):
    spec = _spec(tree, test_cmd="python3 -m unittest discover -v -s tests -t .", log_parser="django")
    with make_sandbox("local", _task(tree)) as sandbox:
        run = run_suite(sandbox, spec, (), timeout=120)
        sandbox.reset()
        sandbox.write_file(f"{TESTBED}/proj/core.py", CORE.replace("sum(items)", "max(items)"))
        broken = run_suite(sandbox, spec, (), timeout=120)
    assert run.problem == "" and run.passed == {
        "test_a (tests.test_unit.T.test_a)",
        "test_b (tests.test_unit.T.test_b)",
    }
    assert broken.passed == {"test_a (tests.test_unit.T.test_a)"}
    failure = unittest_failure(broken.log, "test_b (tests.test_unit.T.test_b)")
    assert failure.endswith("AssertionError: 2 != 3")


def test_a_suite_that_hangs_is_reported_not_counted(tree):
    with make_sandbox("local", _task(tree)) as sandbox:
        sandbox.write_file(f"{TESTBED}/proj/core.py", "def total(items):\n    while True:\n        pass\n")
        run = run_suite(sandbox, _spec(tree), ("tests/test_things.py",), timeout=3)
    assert "timed out after 3s" in run.problem


def test_statement_reproduction_comes_from_the_test_source(tree):
    assert "assert total([1, 2]) == 3" in function_source(tree, "tests/test_things.py::TestThing::test_sum")
    assert function_source(tree, "tests/test_things.py::test_missing") == ""
