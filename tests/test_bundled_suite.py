"""The bundled suite (envs/bundled): shape, diffs that apply both ways, issues without hints, and
validation of every task in the local sandbox (F2P fail with the bug and pass after the gold patch)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from unidiff import PatchSet

from swe_srl.tasks import load_tasks, validate_task

BUNDLED = Path(__file__).resolve().parent.parent / "envs" / "bundled"
ISSUE_TEST_PREFIX = "tests/test_issue_"


@pytest.fixture(scope="module")
def tasks():
    return load_tasks("bundled")


def changed_files(patch: str) -> set[str]:
    return {f.path for f in PatchSet(patch)}


def library_tests(task) -> list[str]:
    return [t for t in task.PASS_TO_PASS if not t.startswith(ISSUE_TEST_PREFIX)]


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_suite_size_and_libraries(tasks):
    assert len(tasks) >= 24
    by_repo = Counter(t.repo for t in tasks)
    assert len(by_repo) >= 4
    assert all(count >= 5 for count in by_repo.values()), by_repo
    for task in tasks:
        lib = task.repo.split("/")[1]
        assert task.repo == f"swe-srl/{lib}" and Path(task.repo_dir) == BUNDLED / "repos" / lib
        assert (task.version, task.log_parser, task.eval_type) == ("1.0", "pytest", "pytest")
        assert len(task.base_commit) == 40


def test_each_library_has_its_own_suite_of_at_least_30_tests(tasks):
    per_repo = defaultdict(set)
    for task in tasks:
        per_repo[task.repo].add(tuple(sorted(library_tests(task))))
    for repo, variants in per_repo.items():
        assert len(variants) == 1, f"{repo}: tasks disagree on the library's own tests"
        (tests,) = variants
        assert len(tests) >= 30, repo


def test_bug_kinds_difficulties_and_multi_file_fixes_vary(tasks):
    kinds = Counter(t.metadata["bug_kind"] for t in tasks)
    difficulties = Counter(t.metadata["difficulty"] for t in tasks)
    assert len(kinds) >= 6, kinds
    assert set(difficulties) == {"easy", "medium", "hard"}
    assert {"off-by-one", "wrong-condition", "unhandled-edge-case", "wrong-api-use", "state-bug"} <= set(
        kinds
    )
    two_file = [t.instance_id for t in tasks if len(changed_files(t.patch)) >= 2]
    assert len(two_file) >= 3, two_file


def test_diffs_have_the_expected_shape(tasks):
    for task in tasks:
        assert changed_files(task.patch) == changed_files(task.setup_patch), task.instance_id
        added = PatchSet(task.test_patch)
        assert [f.is_added_file for f in added] == [True], task.instance_id
        test_file = added[0].path
        assert test_file.startswith(ISSUE_TEST_PREFIX)
        assert task.FAIL_TO_PASS and all(t.startswith(test_file + "::") for t in task.FAIL_TO_PASS)
        assert not set(task.FAIL_TO_PASS) & set(task.PASS_TO_PASS)
        assert not any(f.startswith("tests/") for f in changed_files(task.patch)), (
            "the fix must not touch tests"
        )


def test_problem_statements_do_not_point_at_the_fix(tasks):
    for task in tasks:
        text = task.problem_statement
        assert len(text) > 200 and text.count("\n") >= 4, task.instance_id
        for path in changed_files(task.patch):
            assert path not in text and Path(path).name not in text, (task.instance_id, path)
        for line in task.patch.splitlines():
            if line.startswith("+") and not line.startswith("+++") and len(line.strip()) > 25:
                assert line[1:].strip() not in text, (task.instance_id, line)


def test_setup_patch_and_gold_patch_are_exact_inverses(tasks, tmp_path):
    for lib in {t.repo.split("/")[1] for t in tasks}:
        repo = tmp_path / lib
        shutil.copytree(BUNDLED / "repos" / lib, repo, ignore=shutil.ignore_patterns("__pycache__"))
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        for task in (t for t in tasks if t.repo == f"swe-srl/{lib}"):
            git(repo, "apply", "-", stdin=task.setup_patch)
            assert git(repo, "diff"), task.instance_id
            git(repo, "apply", "--check", "-", stdin=task.test_patch)
            git(repo, "apply", "-", stdin=task.patch)
            assert git(repo, "diff") == "", task.instance_id


@pytest.mark.slow
def test_build_script_regenerates_the_stored_tasks(tmp_path):
    """The suite is generated: rebuilding one library from repos/ and bugs/ gives the stored rows."""
    out = tmp_path / "tasks.jsonl"
    proc = subprocess.run(
        [sys.executable, str(BUNDLED / "build.py"), "--lib", "spans", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    stored = [json.loads(line) for line in (BUNDLED / "tasks.jsonl").read_text().splitlines()]
    rebuilt = [json.loads(line) for line in out.read_text().splitlines()]
    assert rebuilt == [r for r in stored if r["repo"] == "swe-srl/spans"]


@pytest.mark.slow
def test_every_bundled_task_validates_in_the_local_sandbox(tasks):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(validate_task, tasks))
    failures = {r.instance_id: r.problems for r in results if not r.valid}
    assert not failures
    for task, result in zip(tasks, results, strict=True):
        assert all(result.before[t] in ("FAILED", "ERROR") for t in task.FAIL_TO_PASS)
        assert all(result.after[t] == "PASSED" for t in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS))


@pytest.mark.slow
def test_validation_rejects_a_task_whose_bug_is_missing(tasks):
    task = next(t for t in tasks if t.instance_id == "swe-srl__spans-merge-ranges-contained")
    no_bug = dataclasses.replace(task, setup_patch="", base_commit="", patch="")
    result = validate_task(no_bug)
    assert not result.valid
    assert any(p.startswith("FAIL_TO_PASS tests pass with the bug present") for p in result.problems)
    assert all(result.before[t] == "PASSED" for t in task.FAIL_TO_PASS)


@pytest.mark.docker
@pytest.mark.slow
def test_two_file_tasks_validate_in_docker(tasks):
    """The Docker backend gives the same verdicts (same base image Python and pytest as the host)."""
    picked = [t for t in tasks if len(changed_files(t.patch)) >= 2][:2]
    for task in picked:
        result = validate_task(task, "docker")
        assert result.valid, (task.instance_id, result.problems)
        assert set(result.after) >= set(task.FAIL_TO_PASS) | set(task.PASS_TO_PASS)
