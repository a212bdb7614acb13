"""Base repository preparation: deterministic commits, caching, git sources, clear errors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sandbox_cases import SETUP_PATCH, make_tiny_task

from swe_srl.sandbox.gc import gc_workspaces
from swe_srl.sandbox.workspace import WorkspaceError, base_commit_of, prepare_base_repo

FIXED = {
    "GIT_AUTHOR_NAME": "swe-srl",
    "GIT_AUTHOR_EMAIL": "swe-srl@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "swe-srl",
    "GIT_COMMITTER_EMAIL": "swe-srl@localhost",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, **FIXED}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, input=stdin, text=True, capture_output=True, check=True
    ).stdout.strip()


def test_base_commit_is_deterministic_and_matches_plain_git(tmp_path):
    task = make_tiny_task(tmp_path / "a")
    first = base_commit_of(task, tmp_path / "cache1")
    # Same inputs at another path, another cache: same hash.
    again = base_commit_of(make_tiny_task(tmp_path / "b"), tmp_path / "cache2")
    assert first == again
    # The recipe, replayed with git by hand, gives the same hash.
    manual = tmp_path / "manual"
    subprocess.run(["cp", "-a", task.repo_dir, str(manual)], check=True)
    _git(manual, "init", "-q", "-b", "main")
    _git(manual, "add", "-A")
    _git(manual, "commit", "-q", "-m", "swe-srl: source tree")
    _git(manual, "apply", "-", stdin=SETUP_PATCH)
    _git(manual, "add", "-A")
    _git(manual, "commit", "-q", "-m", "swe-srl: setup patch")
    assert first == _git(manual, "rev-parse", "HEAD")


def test_prepared_repo_is_cached_and_clean(tmp_path):
    task = make_tiny_task(tmp_path)
    repo = prepare_base_repo(task, tmp_path / "cache")
    assert prepare_base_repo(task, tmp_path / "cache") == repo
    assert (repo / "calc" / "ops.py").read_text().endswith("return a - b\n")
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "log", "--format=%s") == "swe-srl: setup patch\nswe-srl: source tree"


def test_changed_source_gets_a_new_cache_entry(tmp_path):
    task = make_tiny_task(tmp_path)
    before = base_commit_of(task, tmp_path / "cache")
    (Path(task.repo_dir) / "README.md").write_text("changed\n")
    assert base_commit_of(task, tmp_path / "cache") != before


def test_wrong_base_commit_names_the_instance(tmp_path):
    task = dataclasses.replace(make_tiny_task(tmp_path), base_commit="0" * 40)
    with pytest.raises(WorkspaceError, match=r"tiny__calc-1.*base_commit"):
        prepare_base_repo(task, tmp_path / "cache")
    right = dataclasses.replace(task, base_commit=base_commit_of(task, tmp_path / "cache"))
    assert prepare_base_repo(right, tmp_path / "cache").is_dir()


def test_bad_setup_patch_and_missing_repo_dir_are_clear(tmp_path):
    task = make_tiny_task(tmp_path)
    with pytest.raises(WorkspaceError, match=r"tiny__calc-1.*setup_patch"):
        bad = dataclasses.replace(task, setup_patch="--- a/nope\n+++ b/nope\n@@ -1 +1 @@\n-x\n+y\n")
        prepare_base_repo(bad, tmp_path / "c")
    with pytest.raises(WorkspaceError, match=r"tiny__calc-1.*repo_dir"):
        prepare_base_repo(dataclasses.replace(task, repo_dir=str(tmp_path / "absent")), tmp_path / "c")


def test_git_checkout_source_checks_out_base_commit(tmp_path):
    src = tmp_path / "gitsrc"
    src.mkdir()
    _git(src, "init", "-q", "-b", "trunk")
    (src / "f.txt").write_text("one\n")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "one")
    first = _git(src, "rev-parse", "HEAD")
    (src / "f.txt").write_text("two\n")
    _git(src, "commit", "-q", "-am", "two")
    task = dataclasses.replace(make_tiny_task(tmp_path), repo_dir=str(src), base_commit=first, setup_patch="")
    repo = prepare_base_repo(task, tmp_path / "cache")
    assert _git(repo, "rev-parse", "HEAD") == first
    assert (repo / "f.txt").read_text() == "one\n"
    assert _git(repo, "remote") == ""


def test_concurrent_preparation_is_safe(tmp_path):
    task = make_tiny_task(tmp_path)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(prepare_base_repo(task, tmp_path / "cache")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert _git(results[0], "status", "--porcelain") == ""
    assert not [p for p in (tmp_path / "cache" / "base").iterdir() if p.name.startswith(".tmp")]


def test_gc_removes_only_stale_workspaces(tmp_path):
    now = int(time.time())
    stale = tmp_path / f"task.999999999.{now - 7200}.abc"  # owner pid cannot exist
    mine = tmp_path / f"task.{os.getpid()}.{now - 7200}.def"  # owner (this process) alive
    young = tmp_path / f"task.999999999.{now}.ghi"
    for path in (stale, mine, young):
        path.mkdir()
    removed = gc_workspaces(3600, root=tmp_path)
    assert [r.name for r in removed] == [str(stale)]
    assert mine.exists() and young.exists() and not stale.exists()


def test_gc_command_reports_what_it_removed(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from swe_srl.cli import app

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # workspace_root() lives under it
    stale = tmp_path / "swe-srl-ws" / f"task.999999999.{int(time.time()) - 7200}.abc"
    stale.mkdir(parents=True)
    result = CliRunner().invoke(app, ["sandbox", "gc", "--older-than", "3600", "--no-docker"])
    assert result.exit_code == 0, result.output
    assert f"removed workspace {stale}" in result.output and "1 sandbox(es) removed" in result.output
    assert not stale.exists()


def test_gitignored_files_of_the_source_tree_are_kept_and_restored_by_reset(tmp_path):
    """An sdist ships files its .gitignore names (a generated ``_version.py``): they are part of the base."""
    task = make_tiny_task(tmp_path)
    lib = Path(task.repo_dir)
    (lib / ".gitignore").write_text("calc/_version.py\n*.dat\n")
    (lib / "calc" / "_version.py").write_text("version = '1.2.3'\n")
    (lib / "calc" / "table.dat").write_text("prebuilt\n")
    repo = prepare_base_repo(task, tmp_path / "cache")
    assert (repo / "calc" / "_version.py").read_text() == "version = '1.2.3'\n"
    tracked = _git(repo, "ls-files").split("\n")
    assert "calc/_version.py" in tracked and "calc/table.dat" in tracked
    assert _git(repo, "status", "--porcelain", "--ignored") == ""

    from swe_srl.sandbox import make_sandbox

    with make_sandbox("local", task, cache_root=tmp_path / "cache") as sandbox:
        assert sandbox.run("cat calc/_version.py").output == "version = '1.2.3'\n"
        sandbox.run("rm calc/_version.py && echo changed > calc/table.dat")
        assert "calc/_version.py" in sandbox.diff()
        sandbox.reset()
        assert sandbox.run("cat calc/_version.py calc/table.dat").output == "version = '1.2.3'\nprebuilt\n"
