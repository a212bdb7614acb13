"""Build ``envs/bundled/tasks.jsonl`` from the clean libraries in ``repos/`` and the bug specs in ``bugs/``.

Each library under ``repos/<lib>`` is correct and has its own pytest suite. For every bug spec the
script works in a throw-away git checkout of the library: it applies the bug's edits and takes
``setup_patch`` from ``git diff`` and the gold ``patch`` from ``git diff -R`` (the exact reverse), adds
the regression test file and takes ``test_patch`` from ``git diff`` (intent-to-add), so every diff
applies with ``git apply``. It then runs pytest the way the grader does and classifies tests:

- ``FAIL_TO_PASS``: regression tests that fail with the bug and pass with the gold patch;
- ``PASS_TO_PASS``: the library's own tests (all must pass with the bug present, as with a real bug
  that slipped through the suite), plus any regression test that passes both times.

The build fails when a regression test file has no test that fails with the bug, or when a library
test fails with the bug or after the fix. ``base_commit`` is computed with
``swe_srl.sandbox.workspace.base_commit_of`` (a deterministic commit of the prepared repository).

Run from the repository root: ``.venv/bin/python envs/bundled/build.py [--lib NAME ...] [--no-base-commit]``.
Pytest runs with ``/usr/bin/python3`` when present (the interpreter the sandboxes use).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUITE_DIR = Path(__file__).resolve().parent
REPO_ROOT = SUITE_DIR.parent.parent
sys.path[:0] = [str(SUITE_DIR), str(REPO_ROOT)]
sys.dont_write_bytecode = True  # keep bugs/__pycache__ out of the suite folder

from bugs import LIBRARIES, Bug, all_bugs  # noqa: E402

from swe_srl.sandbox.base import SandboxError  # noqa: E402
from swe_srl.sandbox.workspace import git as workspace_git  # noqa: E402

PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
PYTEST = [PYTHON, "-m", "pytest", "-rA", "-p", "no:cacheprovider"]
_STATUS_RE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)")


class BuildError(RuntimeError):
    """A bug spec does not produce a valid task; the message names the instance."""


@dataclass(frozen=True)
class Diffs:
    setup_patch: str
    patch: str
    test_patch: str


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    """Git with the fixed identity and no host configuration, as the sandboxes prepare repositories."""
    try:
        return workspace_git(list(args), repo, stdin=None if stdin is None else stdin.encode())
    except SandboxError as err:
        raise BuildError(str(err)) from err


def run_pytest(repo: Path, *paths: str) -> dict[str, str]:
    """Test id -> status, parsed from ``pytest -rA`` summary lines."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [*PYTEST, *paths], cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    statuses = {}
    for line in proc.stdout.splitlines():
        match = _STATUS_RE.match(line.replace(" - ", " "))
        if match:
            statuses[match.group(2)] = match.group(1)
    if not statuses:
        raise BuildError(f"pytest in {repo} reported no tests:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return statuses


def checkout_library(lib: str, dest: Path) -> Path:
    repo = dest / lib
    shutil.copytree(
        SUITE_DIR / "repos" / lib,
        repo,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc"),
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "clean library")
    return repo


def apply_edits(repo: Path, bug: Bug) -> None:
    for edit in bug.edits:
        path = repo / edit.path
        text = path.read_text()
        count = text.count(edit.old)
        if count != 1:
            raise BuildError(
                f"{bug.instance_id}: edit text occurs {count} times in {edit.path}, expected once"
            )
        path.write_text(text.replace(edit.old, edit.new))


def make_diffs(repo: Path, bug: Bug) -> Diffs:
    apply_edits(repo, bug)
    setup_patch = git(repo, "diff")
    patch = git(repo, "diff", "-R")
    if not setup_patch:
        raise BuildError(f"{bug.instance_id}: the edits change nothing")
    (repo / bug.test_path).write_text(bug.tests)
    git(repo, "add", "-N", bug.test_path)
    test_patch = git(repo, "diff", "--", bug.test_path)
    return Diffs(setup_patch, patch, test_patch)


def classify(bug: Bug, repo: Path, diffs: Diffs, library_tests: list[str]) -> tuple[list[str], list[str]]:
    """Run the suite with the bug and after the gold patch; return (FAIL_TO_PASS, PASS_TO_PASS)."""
    before = run_pytest(repo)
    git(repo, "apply", "-", stdin=diffs.patch)
    after = run_pytest(repo)
    issue_tests = sorted(test for test in after if test.startswith(bug.test_path + "::"))
    problems = [f"{t} is {after[t]} after the fix" for t in after if after[t] != "PASSED"]
    problems += [
        f"{t} is {before.get(t, 'missing')} with the bug" for t in library_tests if before.get(t) != "PASSED"
    ]
    f2p = [t for t in issue_tests if before.get(t) != "PASSED"]
    if not f2p:
        problems.append("no regression test fails with the bug")
    if problems:
        raise BuildError(f"{bug.instance_id}: " + "; ".join(problems))
    p2p = library_tests + [t for t in issue_tests if t not in f2p]
    return f2p, p2p


def build_task(bug: Bug, repo: Path, library_tests: list[str]) -> dict:
    try:
        diffs = make_diffs(repo, bug)
        f2p, p2p = classify(bug, repo, diffs, library_tests)
    finally:
        git(repo, "reset", "-q", "--hard")
        git(repo, "clean", "-q", "-fdx")
    return {
        "instance_id": bug.instance_id,
        "repo": f"swe-srl/{bug.lib}",
        "base_commit": "",
        "problem_statement": bug.statement,
        "patch": diffs.patch,
        "test_patch": diffs.test_patch,
        "FAIL_TO_PASS": f2p,
        "PASS_TO_PASS": p2p,
        "version": "1.0",
        "log_parser": "pytest",
        "eval_type": "pytest",
        "repo_dir": f"repos/{bug.lib}",
        "setup_patch": diffs.setup_patch,
        "metadata": {
            "difficulty": bug.difficulty,
            "bug_kind": bug.bug_kind,
            "files_changed": len({e.path for e in bug.edits}),
        },
    }


def fill_base_commits(records: list[dict]) -> None:
    from swe_srl.records import Task
    from swe_srl.sandbox.workspace import base_commit_of

    for record in records:
        task = Task(
            instance_id=record["instance_id"],
            repo=record["repo"],
            base_commit="",
            problem_statement="",
            repo_dir=str(SUITE_DIR / record["repo_dir"]),
            setup_patch=record["setup_patch"],
        )
        record["base_commit"] = base_commit_of(task)


def build(libraries: tuple[str, ...], with_base_commit: bool = True) -> list[dict]:
    records = []
    for lib in libraries:
        bugs = [bug for bug in all_bugs((lib,))]
        with tempfile.TemporaryDirectory(prefix=f"swe-srl-build-{lib}-") as tmp:
            repo = checkout_library(lib, Path(tmp))
            clean = run_pytest(repo)
            failing = [t for t, s in clean.items() if s != "PASSED"]
            if failing:
                raise BuildError(f"library {lib}: tests fail on the clean tree: {failing}")
            library_tests = sorted(clean)
            for bug in bugs:
                records.append(build_task(bug, repo, library_tests))
                print(f"built {bug.instance_id}: {len(records[-1]['FAIL_TO_PASS'])} F2P", file=sys.stderr)
    if with_base_commit:
        fill_base_commits(records)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", action="append", choices=LIBRARIES, help="only these libraries")
    parser.add_argument("--no-base-commit", action="store_true", help="leave base_commit empty")
    parser.add_argument("--output", type=Path, default=SUITE_DIR / "tasks.jsonl")
    args = parser.parse_args(argv)
    try:
        records = build(tuple(args.lib or LIBRARIES), with_base_commit=not args.no_base_commit)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with args.output.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    print(f"wrote {len(records)} tasks to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
