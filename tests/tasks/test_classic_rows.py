"""Classic SWE-bench rows (repo + base_commit, no source tree): repositories from a mirror folder or URL."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from swe_srl.sandbox import WorkspaceError, make_sandbox
from swe_srl.tasks import load_tasks
from swe_srl.tasks.repos import with_repositories

GIT_ENV = {
    "GIT_AUTHOR_NAME": "a",
    "GIT_AUTHOR_EMAIL": "a@b",
    "GIT_COMMITTER_NAME": "a",
    "GIT_COMMITTER_EMAIL": "a@b",
}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def mirror(tmp_path) -> tuple[Path, str, str]:
    """A folder of clones holding ``acme__calc`` with two commits; returns it and both hashes."""
    clone = tmp_path / "mirror" / "acme__calc"
    clone.mkdir(parents=True)
    _git(clone, "init", "-q", "-b", "main")
    (clone / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "buggy")
    first = _git(clone, "rev-parse", "HEAD").strip()
    (clone / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    _git(clone, "commit", "-qam", "fixed")
    return tmp_path / "mirror", first, _git(clone, "rev-parse", "HEAD").strip()


def _classic_suite(tmp_path: Path, base_commit: str) -> Path:
    row = {"instance_id": "acme__calc-1", "repo": "acme/calc", "base_commit": base_commit}
    row.update(
        {"problem_statement": "add subtracts", "version": 1.0, "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]"}
    )
    path = tmp_path / "classic.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return path


def test_a_mirror_folder_provides_the_repository_at_base_commit(tmp_path, mirror):
    folder, first, _ = mirror
    task = load_tasks(_classic_suite(tmp_path, first), repos=str(folder))[0]
    assert task.repo_dir == str((folder / "acme__calc").resolve()) and task.version == "1.0"
    with make_sandbox("local", task, cache_root=tmp_path / "cache") as sandbox:
        assert sandbox.run("git rev-parse HEAD").output.strip() == first
        assert "a - b" in sandbox.run("cat calc.py").output


def test_a_url_template_clones_once_into_the_cache(tmp_path, mirror, monkeypatch):
    folder, _, second = mirror
    monkeypatch.setenv("SWE_SRL_CACHE", str(tmp_path / "cache"))
    task = load_tasks(_classic_suite(tmp_path, second), repos=f"file://{folder}/{{mirror}}")[0]
    assert task.repo_dir == str(tmp_path / "cache" / "mirrors" / "acme__calc")
    with make_sandbox("local", task) as sandbox:
        assert sandbox.run("git rev-parse HEAD").output.strip() == second


def test_a_row_with_no_source_says_what_to_provide(tmp_path, mirror):
    _, first, _ = mirror
    task = load_tasks(_classic_suite(tmp_path, first), repos=str(tmp_path / "empty"))[0]
    assert task.repo_dir == ""
    with pytest.raises(WorkspaceError, match=r"--repos DIR holding a git clone named acme__calc"):
        make_sandbox("local", task, cache_root=tmp_path / "cache")


def test_rows_with_a_tree_or_an_image_are_left_alone(tmp_path, mirror):
    folder, first, _ = mirror
    task = load_tasks(_classic_suite(tmp_path, first), repos="")[0]
    import dataclasses

    imaged = dataclasses.replace(task, image="swebench/sweb.eval.x86_64.acme_1776_calc-1:latest")
    assert with_repositories([imaged], str(folder)) == [imaged]
