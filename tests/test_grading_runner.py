"""The one test runner on real test setups: ids with spaces, forced colour, a non-pytest runner with
its own log parser, a task's own eval_script, and validate running exactly like the grader."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.testspec import TestRunSpec
from swe_srl.records import Task
from swe_srl.tasks.validate import validate_task

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]
BUGGY = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
FIXED = BUGGY.replace("return a - b", "return a + b", 1)
PYTEST_TESTS = """import pytest

from calc.ops import add


@pytest.mark.parametrize("case", ["one two", "three"])
def test_add(case):
    assert add(2, 3) == 5
"""
UNITTEST_TESTS = """import unittest

from calc.ops import add, sub


class OpsTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_sub(self):
        self.assertEqual(sub(5, 3), 2)
"""
RUNTESTS = """import sys
import unittest

sys.path[:0] = [".", "tests"]
names = sys.argv[1:] or ["test_ops"]
suite = unittest.defaultTestLoader.loadTestsFromNames(names)
sys.exit(not unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful())
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _diff(root: Path, base: dict[str, str], changed: dict[str, str]) -> str:
    repo = root / f"diff-{len(list(root.iterdir()))}"
    repo.mkdir()
    _git(repo, "init", "-q")
    for rel, text in base.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    for rel, text in changed.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "add", "-A")
    return _git(repo, "diff", "--cached")


def new_file_patch(path: str, text: str) -> str:
    """A patch creating ``path`` with ``text``."""
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return f"{header}@@ -0,0 +1,{len(lines)} @@\n{body}"


def make_task(root: Path, name: str, base: dict[str, str], tests: dict[str, str], **fields) -> Task:
    source = root / name
    for rel, text in base.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(text)
    scratch = root / f"{name}-scratch"
    scratch.mkdir()
    return Task(
        instance_id=f"demo__{name}-1",
        repo=f"demo/{name}",
        base_commit="",
        problem_statement="add() subtracts",
        patch=_diff(scratch, base, {"calc/ops.py": FIXED}),
        test_patch=_diff(scratch, base, tests),
        repo_dir=str(source),
        **fields,
    )


@pytest.fixture(scope="module")
def spaced_task(tmp_path_factory) -> Task:
    """Parametrized ids with spaces, and a project that forces colour in its pytest options."""
    base = {
        "calc/__init__.py": "",
        "calc/ops.py": BUGGY,
        "tests/test_base.py": "from calc.ops import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n",
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--color=yes"\n',
    }
    return make_task(
        tmp_path_factory.mktemp("spaced"),
        "spaced",
        base,
        {"tests/test_ops.py": PYTEST_TESTS},
        FAIL_TO_PASS=("tests/test_ops.py::test_add[one two]", "tests/test_ops.py::test_add[three]"),
        PASS_TO_PASS=("tests/test_base.py::test_sub",),
    )


@pytest.fixture(scope="module")
def unittest_task(tmp_path_factory) -> Task:
    """A project whose tests run with its own runner, graded with swebench's Django log parser."""
    base = {"calc/__init__.py": "", "calc/ops.py": BUGGY, "runtests.py": RUNTESTS, "tests/__init__.py": ""}
    return make_task(
        tmp_path_factory.mktemp("unit"),
        "unit",
        base,
        {"tests/test_ops.py": UNITTEST_TESTS},
        FAIL_TO_PASS=("test_add (test_ops.OpsTest.test_add)",),
        PASS_TO_PASS=("test_sub (test_ops.OpsTest.test_sub)",),
        test_cmd="python3 runtests.py",
        log_parser="django",
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_ids_with_spaces_and_forced_colour_are_graded_exactly(spaced_task, backend):
    grader = SandboxGrader(backend, test_timeout=60)
    gold = grader.grade(spaced_task, spaced_task.patch)
    assert gold.status == "resolved", gold.reason
    assert gold.tests == {t: "PASSED" for t in (*spaced_task.FAIL_TO_PASS, *spaced_task.PASS_TO_PASS)}
    unrelated = grader.grade(spaced_task, spaced_task.patch.replace("a + b", "a - b + 0"))
    assert unrelated.status == "unresolved"
    assert unrelated.tests["tests/test_ops.py::test_add[one two]"] == "FAILED"


def test_swebench_cut_ids_match_the_exact_ones(spaced_task):
    cut = dataclasses.replace(
        spaced_task, FAIL_TO_PASS=("tests/test_ops.py::test_add[one", "tests/test_ops.py::test_add[three]")
    )
    assert SandboxGrader("local", test_timeout=60).grade(cut, cut.patch).status == "resolved"


@pytest.mark.parametrize("backend", BACKENDS)
def test_own_runner_is_graded_by_the_tasks_log_parser(unittest_task, backend):
    spec = TestRunSpec.from_task(unittest_task)
    assert spec.pytest is None and spec.directives == ("test_ops",)  # Django-style module names
    grader = SandboxGrader(backend, test_timeout=60)
    gold = grader.grade(unittest_task, unittest_task.patch)
    assert gold.status == "resolved", gold.reason
    noop = grader.grade(unittest_task, unittest_task.patch.replace("a + b", "a - b + 0"))
    assert noop.status == "unresolved"
    assert noop.tests == {
        "test_add (test_ops.OpsTest.test_add)": "FAILED",
        "test_sub (test_ops.OpsTest.test_sub)": "PASSED",
    }


def test_a_tasks_own_eval_script_is_honoured(spaced_task):
    marked = PYTEST_TESTS.replace(
        "def test_add(case):\n",
        "def test_add(case):\n    import os\n\n    assert os.environ['FROM_TASK_SCRIPT']\n",
    )
    script = "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            "cd /testbed",
            "git apply - <<'EOF_TP'",
            new_file_patch("tests/test_ops.py", marked).rstrip("\n"),
            "EOF_TP",
            ": '>>>>> Start Test Output'",
            "FROM_TASK_SCRIPT=1 python3 -m pytest -rA -p no:cacheprovider tests",
            ": '>>>>> End Test Output'",
        ]
    )
    # A task's own script is graded from its text log by swebench's parser, which cuts ids at spaces:
    # there, as in swebench, only ids without spaces can be matched.
    task = dataclasses.replace(
        spaced_task, eval_script=script, FAIL_TO_PASS=("tests/test_ops.py::test_add[three]",)
    )
    grader = SandboxGrader("local", test_timeout=60)
    gold = grader.grade(task, task.patch)
    assert gold.status == "resolved", gold.reason  # only the task's script sets that variable
    assert grader.grade(task, task.patch.replace("a + b", "a - b + 0")).status == "unresolved"


def test_validate_runs_tests_like_the_grader_and_keeps_both_logs(spaced_task, unittest_task, tmp_path):
    hostile = {"PYTEST_ADDOPTS": "-p no_such_plugin", "PYTHONPATH": "/nonexistent"}
    for task in (spaced_task, unittest_task):
        result = validate_task(task, timeout=60, sandbox_options={"env": hostile}, log_dir=tmp_path / "logs")
        assert result.valid, result.problems  # the agent shell's variables never reach the tests
        assert set(result.logs) == {"before", "after"}
        assert "Start Test Output" in (tmp_path / result.logs["after"]).read_text()


def test_validate_has_the_graders_timeout(spaced_task):
    hangs = new_file_patch(
        "tests/test_ops.py", PYTEST_TESTS.replace("assert add(2, 3) == 5", "while True:\n        pass")
    )
    result = validate_task(dataclasses.replace(spaced_task, test_patch=hangs), timeout=3)
    assert not result.valid and "timed out after 3s" in " ".join(result.problems)


def test_spec_environment_and_named_plugins_reach_the_tests(spaced_task):
    """What an environment record fills: variables for the tests, plugins loaded by name only."""
    from swe_srl.eval.testrun import run_tests
    from swe_srl.sandbox import make_sandbox

    tests = (
        "import os\n\n\ndef test_env():\n    assert os.environ['CALC_MODE'] == 'strict'\n\n\n"
        "def test_named_plugin(pytester):\n    assert pytester is not None\n"
    )
    spec = dataclasses.replace(
        TestRunSpec.from_task(spaced_task, timeout=60),
        test_patch=new_file_patch("tests/test_env.py", tests),
        directives=("tests/test_env.py",),
        env=(("CALC_MODE", "strict"),),
    )
    with make_sandbox("local", spaced_task) as sandbox:
        without = run_tests(sandbox, spec)
        sandbox.reset()
        named = run_tests(sandbox, dataclasses.replace(spec, pytest_plugins=("pytester",)))
    assert without.statuses.tests["tests/test_env.py::test_env"] == "PASSED"
    assert without.statuses.tests["tests/test_env.py::test_named_plugin"] == "ERROR"  # no such fixture
    assert named.statuses.tests["tests/test_env.py::test_named_plugin"] == "PASSED"
