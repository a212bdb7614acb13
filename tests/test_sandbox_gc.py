"""`swe-srl sandbox gc` spares the sandboxes of runs that are still going, and removes any other leftover."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swe_srl.sandbox.gc import _owned_by_live_process
from swe_srl.sandbox.localfs import remove_tree


def test_live_owner_on_this_host_is_spared():
    assert _owned_by_live_process(f"{socket.gethostname()}:{os.getppid()}")


def test_dead_foreign_and_own_owners_are_not_spared():
    finished = subprocess.Popen(["true"])
    finished.wait()
    assert not _owned_by_live_process(f"{socket.gethostname()}:{finished.pid}")
    assert not _owned_by_live_process(f"some-other-host:{os.getppid()}")
    assert not _owned_by_live_process(f"{socket.gethostname()}:{os.getpid()}")  # gc's own sandboxes
    assert not _owned_by_live_process("")
    assert not _owned_by_live_process("garbage")


def _gc_cli(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real command, sweeping only workspaces under ``tmp_path`` (``workspace_root()`` follows TMPDIR)."""
    swe_srl = Path(sys.executable).with_name("swe-srl")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    command = [str(swe_srl), "sandbox", "gc", "--no-docker", "--older-than", "0"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tmp_path(tmp_path):
    """Nothing this module nests stays behind for pytest's own (recursive) clean-up of old runs."""
    yield tmp_path
    assert remove_tree(tmp_path) is None


def _stale_workspace(tmp_path: Path, tag: str) -> Path:
    finished = subprocess.Popen(["true"])
    finished.wait()
    root = tmp_path / ("swe-srl-ws" if os.geteuid() == 0 else f"swe-srl-ws-{os.geteuid()}")
    workspace = root / f"task.{finished.pid}.{int(time.time()) - 60}.{tag}"
    workspace.mkdir(parents=True)
    return workspace


def _nest(top: Path, depth: int) -> None:
    """``depth`` nested directories under ``top``, made through descriptors (the path outgrows PATH_MAX)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as leaf:
            leaf.write("bottom")
    finally:
        os.close(fd)


def test_gc_removes_tree_deeper_than_recursion_limit(tmp_path):
    """A tree an agent nested deeper than Python's recursion limit made gc die in shutil.rmtree."""
    deep, plain = _stale_workspace(tmp_path, "deep"), _stale_workspace(tmp_path, "plain")
    (deep / "testbed").mkdir()
    _nest(deep / "testbed", sys.getrecursionlimit() + 2000)  # also deeper than PATH_MAX
    (plain / "file").write_text("x")
    cli = _gc_cli(tmp_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"removed workspace {deep}" in cli.stdout and f"removed workspace {plain}" in cli.stdout
    assert "2 sandbox(es) removed" in cli.stdout
    assert not deep.exists() and not plain.exists()


def test_gc_reports_leftover_it_cannot_remove_and_goes_on(tmp_path):
    """One workspace gc cannot remove is reported (exit 1), and every other one is still removed."""
    stuck, deep = _stale_workspace(tmp_path, "a-stuck"), _stale_workspace(tmp_path, "b-deep")
    pinned = stuck / "pinned"
    pinned.write_text("x")
    if subprocess.run(["chattr", "+i", str(pinned)], capture_output=True).returncode != 0:
        pytest.skip("no immutable attribute (chattr +i) on this filesystem: root removes anything")
    try:
        _nest(deep, sys.getrecursionlimit() + 2000)
        cli = _gc_cli(tmp_path)
        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert f"could not remove workspace {stuck}: " in cli.stderr and "pinned" in cli.stderr
        assert f"removed workspace {deep}" in cli.stdout and "1 sandbox(es) removed" in cli.stdout
        assert "1 sandbox(es) could not be removed" in cli.stderr
        assert pinned.exists() and not deep.exists()
    finally:
        subprocess.run(["chattr", "-i", str(pinned)], check=True)


def test_a_crashed_runs_overlay_is_unmounted_before_its_workspace_is_removed(tmp_path):
    """A run killed mid-episode leaves its overlay mounted; gc unmounts it, never deleting through it."""
    import pytest

    from swe_srl.sandbox.gc import gc_workspaces
    from swe_srl.sandbox.identity import sandbox_user
    from swe_srl.sandbox.overlay import OverlayWorkspace

    user = sandbox_user()
    if user is None:
        pytest.skip("overlays are mounted by swe-srl running as root")
    lower = tmp_path / "lower"
    lower.mkdir()
    (lower / "kept.py").write_text("x = 1\n")
    root = tmp_path / "ws"
    dead = subprocess.Popen(["true"])
    dead.wait()
    entry = root / f"task.{dead.pid}.1000.abc"
    entry.mkdir(parents=True)
    OverlayWorkspace(entry, lower, user)  # never closed: what a crash leaves
    assert os.path.ismount(entry / "testbed")
    removed = gc_workspaces(older_than=0, root=root)
    assert [r.name for r in removed] == [str(entry)] and not entry.exists()
    assert (lower / "kept.py").read_text() == "x = 1\n"  # nothing was deleted through the mount
