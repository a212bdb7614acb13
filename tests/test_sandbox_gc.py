"""`swe-srl sandbox gc` spares the sandboxes of runs that are still going."""

from __future__ import annotations

import os
import socket
import subprocess

from swe_srl.sandbox.gc import _owned_by_live_process


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
