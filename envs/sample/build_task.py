"""Build ``envs/sample/tasks.jsonl`` from the clean ``durata`` library with real git.

The bundled library under ``repos/durata`` is correct. The task's ``setup_patch`` breaks it the way
a real regression would (a leading sign binds to the first component only), ``patch`` is the exact
reverse, and ``test_patch`` adds the regression tests named in ``FAIL_TO_PASS``. Every diff comes
out of ``git diff`` so it applies with ``git apply``. The script then checks the task the way the
grader will: with the bug, F2P fail and P2P pass; with the gold patch, all pass.

Run: ``python envs/sample/build_task.py`` (uses ``/usr/bin/python3`` for pytest, as the sandboxes do).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE_DIR = Path(__file__).resolve().parent
LIBRARY = "durata"
REPO_DIR = f"repos/{LIBRARY}"
INSTANCE_ID = "swe-srl__durata-1"
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

# (file, clean text, buggy text): the regression the task asks an agent to fix.
BUG_EDITS = (
    (
        "durata/parser.py",
        '_COMPONENT = re.compile(r"\\s*(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*([A-Za-z]+)\\s*,?")',
        '_COMPONENT = re.compile(r"\\s*([+-]?\\d+(?:\\.\\d+)?|[+-]?\\.\\d+)\\s*([A-Za-z]+)\\s*,?")',
    ),
    (
        "durata/parser.py",
        "    else:\n        seconds = _parse_components(body, text)\n",
        "    else:\n        return _parse_components(stripped, text)\n",
    ),
)

ISSUE_TEST_PATH = "tests/test_issue_1.py"
ISSUE_TEST = """import pytest

from durata import format_duration, parse_duration


def test_negative_compound_duration():
    assert parse_duration("-1h30m") == -5400.0
    assert parse_duration("-2 days, 4 hours") == -187200.0


def test_sign_separated_by_space():
    assert parse_duration("- 1h 30m") == -5400.0


@pytest.mark.parametrize("seconds", [-5400, -3723, -90061])
def test_negative_roundtrip(seconds):
    assert parse_duration(format_duration(seconds)) == seconds
"""

PROBLEM_STATEMENT = """parse_duration returns the wrong value for negative durations with several units

I read time offsets from a config file with durata 1.0.0. Offsets such as `-5m` work, but as soon as a
negative offset has more than one component the result is wrong:

```python
>>> from durata import parse_duration, format_duration
>>> parse_duration("-5m")
-300.0
>>> parse_duration("-1h30m")
-1800.0
>>> parse_duration("-2 days, 4 hours")
-158400.0
```

I expected `-5400.0` and `-187200.0`: the README says that a leading `-` makes the whole duration
negative. It also breaks round trips: `format_duration(-5400)` returns `"-1h 30m"`, and parsing that
back gives `-1800.0`.

Writing the sign with a space after it fails completely:

```python
>>> parse_duration("- 1h 30m")
durata.errors.DurationError: cannot parse duration '- 1h 30m' at position 0
```

Expected: `-5400.0`, the same as `"-1h 30m"`.
"""


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity and diff settings so the output does not depend on the user."""
    cmd = ["git", "-c", "user.name=swe-srl", "-c", "user.email=swe-srl@localhost", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def diff(cwd: Path, *revs: str) -> str:
    return git(cwd, "diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", *revs)


def pytest_outcomes(cwd: Path) -> dict[str, str]:
    """Node id -> PASSED/FAILED/ERROR from a real pytest run (``-rA`` summary lines)."""
    proc = subprocess.run(
        [PYTHON, "-m", "pytest", "-rA", "-p", "no:cacheprovider"], cwd=cwd, capture_output=True, text=True
    )
    pattern = re.compile(r"^(PASSED|FAILED|ERROR) (\S+)", re.MULTILINE)
    return {node: status for status, node in pattern.findall(proc.stdout)}


def apply_bug(work: Path) -> None:
    for rel, clean, buggy in BUG_EDITS:
        path = work / rel
        text = path.read_text()
        if text.count(clean) != 1:
            raise SystemExit(f"{rel}: the clean text of a bug edit must occur exactly once")
        path.write_text(text.replace(clean, buggy))


def build(work: Path) -> dict:
    shutil.copytree(SUITE_DIR / REPO_DIR, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "clean")
    p2p = sorted(pytest_outcomes(work))
    apply_bug(work)
    setup_patch = diff(work)
    git(work, "commit", "-q", "-am", "bug")
    patch = diff(work, "HEAD", "HEAD~1")
    (work / ISSUE_TEST_PATH).write_text(ISSUE_TEST)
    git(work, "add", "-A")
    test_patch = diff(work, "--cached")
    buggy = pytest_outcomes(work)
    f2p = sorted(node for node in buggy if node.startswith(ISSUE_TEST_PATH))
    check(buggy, f2p, p2p, gold=False)
    subprocess.run(["git", "apply", "-"], cwd=work, input=patch, text=True, check=True)
    check(pytest_outcomes(work), f2p, p2p, gold=True)
    return {
        "instance_id": INSTANCE_ID,
        "repo": f"swe-srl/{LIBRARY}",
        "base_commit": "",
        "problem_statement": PROBLEM_STATEMENT,
        "patch": patch,
        "test_patch": test_patch,
        "FAIL_TO_PASS": f2p,
        "PASS_TO_PASS": p2p,
        "version": "1.0",
        "log_parser": "pytest",
        "eval_type": "pytest",
        "repo_dir": REPO_DIR,
        "setup_patch": setup_patch,
    }


def check(outcomes: dict[str, str], f2p: list[str], p2p: list[str], *, gold: bool) -> None:
    """Fail loudly unless F2P fail (bug) / pass (gold) and P2P pass in both states."""
    state = "gold" if gold else "bug"
    if not f2p:
        raise SystemExit("no FAIL_TO_PASS tests were collected")
    for node in f2p:
        want = "PASSED" if gold else "FAILED"
        if outcomes.get(node) != want:
            raise SystemExit(f"{state}: {node} is {outcomes.get(node)}, expected {want}")
    for node in p2p:
        if outcomes.get(node) != "PASSED":
            raise SystemExit(f"{state}: {node} is {outcomes.get(node)}, expected PASSED")


def fill_base_commit(record: dict) -> dict:
    """Record the base commit the sandboxes will create, when the workspace builder is importable."""
    try:
        from swe_srl.records import Task
        from swe_srl.sandbox.workspace import base_commit_of
    except ImportError:
        return record
    task = Task(**{**record, "repo_dir": str(SUITE_DIR / REPO_DIR)})
    return {**record, "base_commit": base_commit_of(task)}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="swe-srl-sample-") as tmp:
        record = fill_base_commit(build(Path(tmp) / LIBRARY))
    out = SUITE_DIR / "tasks.jsonl"
    out.write_text(json.dumps(record) + "\n")
    print(f"wrote {out}: {len(record['FAIL_TO_PASS'])} F2P, {len(record['PASS_TO_PASS'])} P2P")


if __name__ == "__main__":
    sys.path.insert(0, str(SUITE_DIR.parent.parent))
    main()
