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
