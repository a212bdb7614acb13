"""The bundled sample task is a valid SWE-bench-style task, checked with real git and pytest."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from swe_srl.records import Task
from swe_srl.tasks import load_tasks

SUITE = Path(__file__).resolve().parent.parent / "envs" / "sample"
PYTHON = "/usr/bin/python3"


def git(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args]
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True)


def pytest_outcomes(cwd: Path) -> dict[str, str]:
    proc = subprocess.run(
        [PYTHON, "-m", "pytest", "-rA", "-p", "no:cacheprovider"], cwd=cwd, capture_output=True, text=True
    )
    return {node: status for status, node in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", proc.stdout, re.M)}


@pytest.fixture(scope="module")
def task() -> Task:
    return load_tasks("sample")[0]


@pytest.fixture
def clean_repo(tmp_path: Path, task: Task) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(task.repo_dir, repo, ignore=shutil.ignore_patterns("__pycache__"))
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", "-A")
    assert git(repo, "commit", "-qm", "clean").returncode == 0
    return repo


def test_record_fields(task: Task):
    assert task.instance_id == "swe-srl__durata-1"
    assert task.version == "1.0" and task.log_parser == "pytest" and task.eval_type == "pytest"
    assert Path(task.repo_dir).is_absolute() and (Path(task.repo_dir) / "durata" / "parser.py").is_file()
    assert task.FAIL_TO_PASS and all(t.startswith("tests/test_issue_1.py::") for t in task.FAIL_TO_PASS)
    assert len(task.PASS_TO_PASS) >= 10
    assert not set(task.FAIL_TO_PASS) & set(task.PASS_TO_PASS)


def test_problem_statement_gives_no_solution(task: Task):
    statement = task.problem_statement
    assert 'parse_duration("-1h30m")' in statement and "-5400.0" in statement
    for hint in ("_COMPONENT", "_split_sign", "_parse_components", "body", "regex"):
        assert hint not in statement


def test_clean_library_passes_its_own_tests(clean_repo: Path, task: Task):
    outcomes = pytest_outcomes(clean_repo)
    assert set(task.PASS_TO_PASS) <= set(outcomes)
    assert set(outcomes.values()) == {"PASSED"}


def test_fail_to_pass_and_pass_to_pass(clean_repo: Path, task: Task):
    assert git(clean_repo, "apply", "-", stdin=task.setup_patch).returncode == 0
    assert git(clean_repo, "apply", "-", stdin=task.test_patch).returncode == 0
    buggy = pytest_outcomes(clean_repo)
    assert {buggy.get(t) for t in task.FAIL_TO_PASS} == {"FAILED"}
    assert {buggy.get(t) for t in task.PASS_TO_PASS} == {"PASSED"}

    assert git(clean_repo, "apply", "-", stdin=task.patch).returncode == 0
    fixed = pytest_outcomes(clean_repo)
    assert {fixed.get(t) for t in (*task.FAIL_TO_PASS, *task.PASS_TO_PASS)} == {"PASSED"}


def test_gold_patch_is_the_reverse_of_the_bug(clean_repo: Path, task: Task):
    before = (clean_repo / "durata" / "parser.py").read_text()
    assert git(clean_repo, "apply", "-", stdin=task.setup_patch).returncode == 0
    assert (clean_repo / "durata" / "parser.py").read_text() != before
    assert git(clean_repo, "apply", "-", stdin=task.patch).returncode == 0
    assert (clean_repo / "durata" / "parser.py").read_text() == before
    assert git(clean_repo, "status", "--porcelain").stdout == ""


def test_tasks_jsonl_matches_its_build_script(tmp_path: Path, task: Task):
    """Editing the library or the bug without re-running build_task.py makes the stored diffs stale."""
    spec = importlib.util.spec_from_file_location("sample_build_task", SUITE / "build_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build(tmp_path / "durata")
    assert rebuilt["setup_patch"] == task.setup_patch
    assert rebuilt["patch"] == task.patch
    assert rebuilt["test_patch"] == task.test_patch
    assert tuple(rebuilt["FAIL_TO_PASS"]) == task.FAIL_TO_PASS
    assert tuple(rebuilt["PASS_TO_PASS"]) == task.PASS_TO_PASS
    assert rebuilt["problem_statement"] == task.problem_statement


def test_base_commit_is_what_the_sandbox_prepares(task: Task, tmp_path: Path):
    from swe_srl.sandbox.workspace import base_commit_of, prepare_base_repo

    assert re.fullmatch(r"[0-9a-f]{40}", task.base_commit)
    assert base_commit_of(task, cache_root=tmp_path) == task.base_commit
    repo = prepare_base_repo(task, cache_root=tmp_path)
    assert "return _parse_components(stripped, text)" in (repo / "durata" / "parser.py").read_text()
    assert not (repo / "tests" / "test_issue_1.py").exists()  # the tests arrive only at grading
