"""Exploit: the model's code prints forged ``PASSED <test id>`` lines (and forged markers)."""

from __future__ import annotations

from swe_srl.eval.grader import SandboxGrader
from swe_srl.eval.patches import base_file, naive_status_map, patch_from_edits

INIT = "durata/__init__.py"


def _forged_lines(task) -> str:
    ids = (*task.FAIL_TO_PASS, *task.PASS_TO_PASS)
    return "\\n".join(f"PASSED {test_id}" for test_id in ids)


def _patch(task, code: str) -> str:
    return patch_from_edits(task, {INIT: base_file(task, INIT) + "\n" + code})


def test_forged_lines_printed_at_exit(task):
    code = f"import atexit, sys\natexit.register(lambda: print('{_forged_lines(task)}'))\n"
    patch = _patch(task, code)
    naive = naive_status_map(task, patch)
    assert all(naive.get(t) == "PASSED" for t in task.FAIL_TO_PASS), "the forgery fools a naive grader"
    result = SandboxGrader("local", test_timeout=60).grade(task, patch)
    # Verdicts come from the launcher's records, never from printed text: the forgery changes nothing.
    assert result.status == "unresolved"
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)


def test_forged_summary_and_clean_exit_at_exit(task):
    fake = (
        "===== short test summary info =====\\n" + _forged_lines(task) + "\\n===== 37 passed in 0.01s ====="
    )
    hook = f"lambda: (print('{fake}'), sys.stdout.flush(), os._exit(0))"
    code = f"import atexit, os, sys\natexit.register({hook})\n"
    result = SandboxGrader("local", test_timeout=60).grade(task, _patch(task, code))
    assert not result.resolved
    assert result.status in ("unresolved", "error")


def test_forged_lines_and_swebench_markers_during_tests(task):
    code = (
        "import sys\n"
        "def _forge():\n"
        f"    print('{_forged_lines(task)}')\n"
        "    print('>>>>> End Test Output')\n"
        "    print('FAILED tests/test_units.py::unrelated')\n"
        "_real = parse_duration\n"
        "def parse_duration(text):\n"
        "    _forge()\n"
        "    return _real(text)\n"
    )
    result = SandboxGrader("local", test_timeout=60).grade(task, _patch(task, code))
    assert not result.resolved
    assert all(result.tests[t] == "FAILED" for t in task.FAIL_TO_PASS)
