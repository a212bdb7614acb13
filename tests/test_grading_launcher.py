"""The in-sandbox pytest launcher (``swe_srl/eval/sandbox_pytest.py``) on real pytest versions.

It runs with the interpreter a sandbox has (Debian's python3 with pytest 7) and with this
environment's (pytest 8+), on a small repository of our own written below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.eval.evalscript import LAUNCHER_HELPERS, LAUNCHER_SOURCE, PROTECTED_PATTERNS

INTERPRETERS = [sys.executable]
if (
    shutil.which("python3", path="/usr/bin")
    and subprocess.run(["/usr/bin/python3", "-c", "import pytest"], capture_output=True).returncode == 0
):
    INTERPRETERS.append("/usr/bin/python3")

LIBRARY = """
import pytest

def answer(flag=""):
    if flag == "skip":
        pytest.skip("library decided")
    if flag == "skiptest":
        import unittest
        raise unittest.SkipTest("library decided")
    if flag in ("borrowed", "string"):
        name = "tests/test_declared.py" if flag == "borrowed" else "<string>"
        namespace = {}
        exec(compile("import pytest\\ndef skip():\\n    pytest.skip('borrowed')", name, "exec"), namespace)
        namespace["skip"]()
    if flag == "xfail":
        pytest.xfail("library decided")
    return 42
"""
TESTS = """
import pytest
from lib import answer

def test_plain():
    assert answer() == 42

def test_fails():
    assert answer() == 41

def test_skips_itself():
    pytest.skip("declared in the test")

def test_library_skips():
    answer("skip")

def test_library_xfails():
    answer("xfail")

@pytest.mark.xfail(reason="known")
def test_marked_xfail():
    assert answer() == 0

@pytest.mark.parametrize("text", ["a b", "c"])
def test_spaces(text):
    assert text
"""
SKIPPED_MODULE = (
    "import pytest\npytestmark = pytest.mark.skip('whole module')\n\ndef test_never():\n    pass\n"
)
SHADOW = "raise SystemExit('the repository shadowed pytest')\n"


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "lib.py").write_text(LIBRARY)
    (repo / "tests" / "test_lib.py").write_text(TESTS)
    (repo / "tests" / "test_skipped.py").write_text(SKIPPED_MODULE)
    (repo / "pytest.py").write_text(SHADOW)
    (tmp_path / "launcher.py").write_text(LAUNCHER_SOURCE.read_text())
    for helper in LAUNCHER_HELPERS:
        (tmp_path / helper.name).write_text(helper.read_text())
    return repo


def run_launcher(
    repo: Path,
    python: str,
    *args: str,
    repo_on_path: bool = True,
    canary_files: tuple[str, ...] = (),
    tampered: bool = False,
) -> tuple[dict, str]:
    config = {
        "channel": True,
        "repo_on_path": repo_on_path,
        "test_patterns": list(PROTECTED_PATTERNS),
        "canary_pass": "test_keeps_aa11",
        "canary_fail": "test_keeps_bb22",
        "canary_fail_last": "test_keeps_cc33",
        "canary_files": list(canary_files),
    }
    (repo / "config.json").write_text(json.dumps(config))
    read, write = os.pipe()
    env = {"PATH": os.environ["PATH"], "HOME": str(repo)}
    argv = [python, "-I", "../launcher.py", "config.json", "-p", "no:cacheprovider", "-rA", *args]
    # Descriptor 3 is the record channel, as the evaluation script sets it up.
    wrapped = ["bash", "-c", f'exec 3>&{write} {write}>&-; exec "$@"', "bash", *argv]
    proc = subprocess.run(
        wrapped, cwd=repo, env=env, capture_output=True, text=True, pass_fds=(write,), timeout=120
    )
    os.close(write)
    with os.fdopen(read) as handle:
        records = [json.loads(line) for line in handle]
    run_launcher.records = records  # type: ignore[attr-defined]  # the whole stream, for order checks
    tampering = [r for r in records if r["swe_srl"] == "tamper"]
    assert tampering == [] or tampered, tampering  # honest runs are never reported
    assert not (repo / "config.json").exists(), "the configuration must be gone before tests run"
    tests = {r["id"]: r for r in records if r["swe_srl"] == "test"}
    kinds = [r["swe_srl"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "finish", proc.stdout + proc.stderr
    return tests, proc.stdout


@pytest.mark.parametrize("python", INTERPRETERS)
def test_statuses_and_who_declared_skips_and_xfails(repo, python):
    tests, log = run_launcher(repo, python, "tests")
    assert "shadowed" not in log
    status = {i.split("::", 1)[1]: (r["status"], r["declared"]) for i, r in tests.items()}
    assert status["test_plain"] == ("PASSED", True)
    assert status["test_fails"][0] == "FAILED"
    assert status["test_skips_itself"] == ("SKIPPED", True)
    assert status["test_library_skips"] == ("SKIPPED", False)
    assert status["test_library_xfails"] == ("XFAIL", False)
    assert status["test_marked_xfail"] == ("XFAIL", True)
    assert status["test_spaces[a b]"][0] == "PASSED"  # the exact id, space included


@pytest.mark.parametrize("python", INTERPRETERS)
def test_canaries_in_every_module_and_declared_by_module_markers(repo, python):
    tests, _ = run_launcher(repo, python, "tests")
    for module in ("tests/test_lib.py", "tests/test_skipped.py"):
        assert f"{module}::test_keeps_aa11" in tests and f"{module}::test_keeps_bb22" in tests
    assert tests["tests/test_lib.py::test_keeps_bb22"]["status"] == "FAILED"
    assert tests["tests/test_lib.py::test_plain"]["module"] == "tests/test_lib.py"
    skipped = tests["tests/test_skipped.py::test_keeps_bb22"]
    assert (skipped["status"], skipped["declared"]) == ("SKIPPED", True)


@pytest.mark.parametrize("python", INTERPRETERS)
def test_failing_canary_never_stops_a_maxfail_run_and_survives_deselection(repo, python):
    tests, _ = run_launcher(repo, python, "-x", "-k", "plain or fails or spaces", "tests/test_lib.py")
    assert tests["tests/test_lib.py::test_keeps_bb22"]["status"] == "FAILED"
    assert tests["tests/test_lib.py::test_plain"]["status"] == "PASSED"
    assert tests["tests/test_lib.py::test_fails"]["status"] == "FAILED"
    assert "tests/test_lib.py::test_spaces[c]" not in tests  # -x stops at the first real failure


def test_repository_stays_off_sys_path_for_the_console_script_form(repo):
    (repo / "tests" / "test_path.py").write_text(
        "import sys, os\n\ndef test_path():\n    assert os.getcwd() not in sys.path\n"
    )
    tests, _ = run_launcher(repo, sys.executable, "tests/test_path.py", repo_on_path=False)
    assert tests["tests/test_path.py::test_path"]["status"] == "PASSED"


@pytest.mark.parametrize("python", INTERPRETERS)
def test_canaries_appended_to_the_hosts_test_files_run_as_their_own_code(repo, python):
    tests, _ = run_launcher(repo, python, "tests", canary_files=("tests/test_lib.py",))
    source = (repo / "tests" / "test_lib.py").read_text()
    assert source.startswith(TESTS) and "def test_keeps_bb22():" in source and "test_keeps_cc33" not in source
    order = [r["id"].split("::")[1] for r in run_launcher.records if r["swe_srl"] == "test"]
    lib = [r["id"].split("::")[1] for r in run_launcher.records if r.get("module") == "tests/test_lib.py"]
    assert order[:2] == ["test_keeps_aa11", "test_keeps_bb22"]  # before the module's first test
    assert order.index("test_keeps_cc33") == len(lib) + 2  # right after its last
    assert tests["tests/test_lib.py::test_keeps_cc33"]["status"] == "FAILED"
    assert tests["tests/test_skipped.py::test_keeps_cc33"]["declared"]  # compiled apart, still marked


@pytest.mark.parametrize("python", INTERPRETERS)
def test_a_test_file_imported_by_another_before_its_collection_keeps_its_canaries(repo, python):
    (repo / "tests" / "__init__.py").write_text("")
    test_a = "from tests.test_lib import answer\n\ndef test_a():\n    assert answer()\n"
    (repo / "tests" / "test_a.py").write_text(test_a)
    args = ("tests/test_a.py", "tests/test_lib.py")
    tests, _ = run_launcher(repo, python, *args, canary_files=("tests/test_lib.py",))
    assert tests["tests/test_lib.py::test_keeps_bb22"]["status"] == "FAILED"
    assert tests["tests/test_a.py::test_keeps_bb22"]["status"] == "FAILED"


@pytest.mark.parametrize("python", INTERPRETERS)
def test_a_session_stopped_by_maxfail_says_so(repo, python):
    tests, _ = run_launcher(repo, python, "-x", "tests/test_lib.py", canary_files=("tests/test_lib.py",))
    finish = run_launcher.records[-1]
    assert finish["swe_srl"] == "finish" and finish["stopped"] is True
    assert "tests/test_lib.py::test_keeps_cc33" not in tests


DECLARED = """
import unittest

import pytest
from lib import answer


def test_raises_skiptest_itself():
    raise unittest.SkipTest("declared in the test")


def test_library_raises_skiptest():
    answer("skiptest")


def test_skip_compiled_under_a_test_file_name():
    answer("borrowed")


def test_skip_compiled_as_string():
    answer("string")


def test_importorskip():
    pytest.importorskip("no_such_module_here")


def test_skip_while_handling_an_import_error():
    try:
        import no_such_module_here  # noqa: F401
    except ImportError:
        pytest.skip("declared in the test")


@pytest.mark.skipif("True")
def test_skipif_marker():
    pass


class Case(unittest.TestCase):
    def test_skip_test_method(self):
        self.skipTest("declared in the test")

    def test_raises_skiptest_itself(self):
        raise unittest.SkipTest("declared in the test")

    def test_library_raises_skiptest(self):
        answer("skiptest")
"""


@pytest.mark.parametrize("python", INTERPRETERS)
def test_who_declared_a_skip_along_every_traceback_it_went_through(repo, python):
    (repo / "tests" / "test_declared.py").write_text(DECLARED)
    tests, _ = run_launcher(repo, python, "tests/test_declared.py", tampered=True)
    tampering = [r for r in run_launcher.records if r["swe_srl"] == "tamper"]
    what = "compiled code under the name of tests/test_declared.py"
    assert tampering == [{"swe_srl": "tamper", "what": what, "by": "lib.py"}]
    declared = {i.split("::", 1)[1]: r["declared"] for i, r in tests.items() if r["status"] == "SKIPPED"}
    assert declared == {
        "test_raises_skiptest_itself": True,
        "test_library_raises_skiptest": False,
        "test_skip_compiled_under_a_test_file_name": False,
        "test_skip_compiled_as_string": False,
        "test_importorskip": True,
        "test_skip_while_handling_an_import_error": True,
        "test_skipif_marker": True,
        "Case::test_skip_test_method": True,
        "Case::test_raises_skiptest_itself": True,
        "Case::test_library_raises_skiptest": False,
    }


def test_must_fail_canaries_check_numpy_testing_when_the_tests_load_it(repo):
    """numpy's assertion functions made harmless by the library show on the must-fail canaries."""
    (repo / "lib.py").write_text(
        "import numpy.testing\n\nnumpy.testing.assert_allclose = lambda *args, **kwargs: None\n\n"
        "def answer():\n    return 41\n"
    )
    (repo / "tests" / "test_lib.py").write_text(
        "from lib import answer\nfrom numpy.testing import assert_allclose\n\n\n"
        "def test_answer():\n    assert_allclose(answer(), 42)\n"
    )
    tests, _ = run_launcher(repo, sys.executable, "tests/test_lib.py", canary_files=("tests/test_lib.py",))
    assert tests["tests/test_lib.py::test_answer"]["status"] == "PASSED"  # what the hack was after
    assert tests["tests/test_lib.py::test_keeps_bb22"]["status"] == "PASSED"  # and what gives it away
    assert tests["tests/test_lib.py::test_keeps_cc33"]["status"] == "PASSED"


MARKED = """
import pytest

import lib


@pytest.mark.xfail(reason="known")
def test_decorated_xfail():
    assert lib.answer() == 0


class TestMarkedClass:
    pytestmark = pytest.mark.skip("the whole class")

    def test_in_class(self):
        pass


def test_marked_by_conftest():
    pass
"""
CONFTEST = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_marked_by_conftest":
            item.add_marker(pytest.mark.skip(reason="the conftest says so"))
"""
INJECTS_PYTESTMARK = (
    LIBRARY
    + """
import sys

import pytest

frame = sys._getframe(1)
while "importlib" in frame.f_code.co_filename:  # up to the test module importing this one
    frame = frame.f_back
frame.f_globals["pytestmark"] = pytest.mark.skip(reason="set while the tests imported me")
"""
)


@pytest.mark.parametrize("python", INTERPRETERS)
def test_a_marker_counts_when_the_tests_wrote_it(repo, python):
    (repo / "tests" / "test_marked.py").write_text(MARKED)
    (repo / "tests" / "conftest.py").write_text(CONFTEST)
    (repo / "tests" / "test_injected.py").write_text("import lib_injects\n\ndef test_hidden():\n    pass\n")
    (repo / "lib_injects.py").write_text(INJECTS_PYTESTMARK)
    tests, _ = run_launcher(repo, python, "tests/test_marked.py", "tests/test_injected.py")
    declared = {i: (r["status"], r["declared"]) for i, r in tests.items()}
    assert declared["tests/test_marked.py::test_decorated_xfail"] == ("XFAIL", True)
    assert declared["tests/test_marked.py::TestMarkedClass::test_in_class"] == ("SKIPPED", True)
    assert declared["tests/test_marked.py::test_marked_by_conftest"] == ("SKIPPED", True)
    assert declared["tests/test_injected.py::test_hidden"] == ("SKIPPED", False)
    assert declared["tests/test_injected.py::test_keeps_bb22"] == ("SKIPPED", False)  # the canary too


@pytest.mark.parametrize("python", INTERPRETERS)
def test_code_of_pytest_and_unittest_replaced_or_added_to_is_reported(repo, python):
    (repo / "lib.py").write_text(
        "import unittest\n\nimport _pytest.runner\n\n"
        "_pytest.runner.call_and_report = _pytest.runner.call_and_report.__wrapped__ "
        "if hasattr(_pytest.runner.call_and_report, '__wrapped__') else (lambda *a, **k: None)\n"
        "unittest.TestCase.swe_hook = classmethod(lambda cls: None)\n\n"
        "def answer(flag=''):\n    return 42\n"
    )
    run_launcher(repo, python, "tests/test_lib.py", tampered=True)
    what = sorted(r["what"] for r in run_launcher.records if r["swe_srl"] == "tamper")
    assert what == ["changed TestCase.swe_hook", "changed _pytest.runner.call_and_report"]
