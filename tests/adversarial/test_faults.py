"""Faults of the sandbox itself, not of the agent's command: every one must surface as a typed
``SandboxError`` (never a raw Docker or OS exception), and ``close()`` must still work.

The Docker backend does not re-create a vanished container behind the agent's back: once the
container is killed or removed, every operation of the episode raises ``SandboxError`` ("start a
new sandbox"), because silently starting over would hide that the episode's state is gone. Only
``reset()``, which starts a new episode in a new container anyway, works again. The engine-restart
test is opt-in (see its docstring).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from attacks import TEST_LIMITS, assert_usable, bash, editor

from swe_srl.records import Action
from swe_srl.sandbox import BrokenRepository, SandboxError, make_sandbox
from swe_srl.tools.executor import execute

ENGINE_RESTART_VAR = "SWE_SRL_TEST_ENGINE_RESTART"
# CI owns its machine's engine and runs tests one at a time, so the restart is safe there; on a
# developer machine other containers may be running, so it needs an explicit opt-in.
ENGINE_RESTART_ENABLED = os.environ.get(ENGINE_RESTART_VAR) == "1" or os.environ.get("CI", "").lower() in (
    "1",
    "true",
    "yes",
)


def _every_operation_raises_typed(sandbox) -> None:
    """After the container is gone, each operation of the episode raises SandboxError, nothing else;
    ``reset()`` starts the next episode in a new container."""
    operations = {
        "bash": lambda: [bash(sandbox, "echo hi", timeout=5) for _ in range(3)],
        "editor": lambda: editor(sandbox, command="view", path="/testbed/README.md", timeout=5),
        "submit": lambda: execute(sandbox, Action("submit", {}), timeout=5),
        "diff": sandbox.diff,
        "kill_processes": sandbox.kill_processes,
        "read_file": lambda: sandbox.read_file("README.md"),
        "write_file": lambda: sandbox.write_file("x.txt", "x"),
    }
    for name, operation in operations.items():
        with pytest.raises(SandboxError):
            operation()
            pytest.fail(f"{name} did not raise")
    sandbox.reset()
    assert_usable(sandbox)
    sandbox.close()
    sandbox.close()


@pytest.mark.docker
@pytest.mark.parametrize("backend", ["docker"])
def test_container_killed_from_outside(sandbox):
    assert_usable(sandbox)
    subprocess.run(["docker", "kill", sandbox.container.id], check=True, capture_output=True)
    _every_operation_raises_typed(sandbox)


@pytest.mark.docker
@pytest.mark.parametrize("backend", ["docker"])
def test_container_removed_from_outside(sandbox):
    assert_usable(sandbox)
    subprocess.run(["docker", "rm", "-f", sandbox.container.id], check=True, capture_output=True)
    _every_operation_raises_typed(sandbox)


@pytest.mark.docker
@pytest.mark.parametrize("backend", ["docker"])
def test_container_paused_from_outside(sandbox):
    """A frozen container looks like a hung command: the step times out, no exception, no hang."""
    subprocess.run(["docker", "pause", sandbox.container.id], check=True, capture_output=True)
    try:
        started = time.monotonic()
        with pytest.raises(SandboxError):
            for _ in range(2):
                result = bash(sandbox, "echo hi", timeout=2)
                assert result.timed_out
        assert time.monotonic() - started < 60
    finally:
        subprocess.run(["docker", "unpause", sandbox.container.id], capture_output=True)


@pytest.mark.parametrize("backend", ["local"])
def test_local_shell_killed_from_outside(sandbox):
    """bwrap killed by someone on the host: the next step starts a fresh shell in the same workspace."""
    bash(sandbox, "echo kept > kept.txt")
    os.killpg(sandbox._session._channel.proc.pid, 9)
    first = bash(sandbox, "cat kept.txt")
    assert first.observation == "kept" or first.exit_code != 0
    assert bash(sandbox, "cat kept.txt").observation == "kept"
    assert_usable(sandbox)


@pytest.fixture
def small_disk(monkeypatch):
    """A 48 MiB tmpfs holding the local sandbox's workspace (and its repository cache)."""
    mount = Path(tempfile.mkdtemp(prefix="swe-srl-small-disk."))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)]).returncode != 0:
        mount.rmdir()
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    monkeypatch.setattr(tempfile, "tempdir", str(mount))
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
    shutil.rmtree(mount, ignore_errors=True)


@pytest.mark.parametrize("backend", ["local"])
def test_full_disk_in_workspace(backend, tiny_task, small_disk):
    """ENOSPC in the workspace: the agent sees it in observations, our git operations raise typed.

    The disk and inode reserves are off here: with a reserve on a 48 MiB disk, the watchdog stops
    the writer as soon as it eats into the reserve, so whether ENOSPC or the reserve's note comes
    first would depend on timing (test_fill_disk_with_many_files covers the reserve).
    """
    limits = dataclasses.replace(TEST_LIMITS, disk_reserve_bytes=0, inode_reserve=0)
    with make_sandbox("local", tiny_task, cache_root=small_disk / "cache", limits=limits) as box:
        bash(box, "echo 'def add(a, b):\n    return a + b' > calc/ops.py")
        fill = "for i in $(seq 10); do head -c 16000000 /dev/zero > fill.$i || break; done"
        filled = bash(box, f"{fill}; df -k .")
        assert "No space left on device" in filled.observation
        created = editor(box, command="create", path="/testbed/new.txt", file_text="x" * 4_000_000)
        assert created.exit_code != 0 or "No space" in created.observation or "rror" in created.observation
        with pytest.raises(BrokenRepository, match="No space left"):
            box.diff()  # `git add` in a temporary index cannot write objects
        # Submitting is never an error of the sandbox: the patch is empty, and the agent reads why.
        submitted = execute(box, Action("submit", {}))
        assert submitted.submitted and submitted.patch == "" and "No space left" in submitted.observation
        bash(box, "rm -f fill.* new.txt")
        assert "+    return a + b" in box.diff()
        assert_usable(box)


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_full_tmp_leaves_tools_working(sandbox):
    """A full /tmp (where the editor installs itself) gives observations, and recovers when freed."""
    fill = "head -c 200000000 /dev/zero > /tmp/fill; head -c 60000000 /dev/zero > /tmp/fill2"
    bash(sandbox, fill, timeout=60)
    viewed = editor(sandbox, command="view", path="/testbed/README.md")
    assert isinstance(viewed.observation, str)
    bash(sandbox, "rm -f /tmp/fill /tmp/fill2")
    viewed = editor(sandbox, command="view", path="/testbed/README.md")
    assert "tiny calculator" in viewed.observation, viewed.observation
    assert_usable(sandbox)


def _restart_engine() -> None:
    found = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=True)
    pid = int(found.stdout.split()[0])
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    os.kill(pid, 15)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = open("/var/log/dockerd-restarted.log", "ab")  # noqa: SIM115 (lives as long as the engine)
    subprocess.Popen([a.decode() for a in argv], stdout=log, stderr=log, start_new_session=True)
    while subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("dockerd did not come back within 60 s")
        time.sleep(0.5)


@pytest.mark.docker
@pytest.mark.skipif(
    not ENGINE_RESTART_ENABLED, reason=f"runs under CI=true, or opt-in: {ENGINE_RESTART_VAR}=1"
)
@pytest.mark.parametrize("backend", ["docker"])
def test_engine_restarted_mid_episode(open_sandbox):
    """The Docker engine restarted under a running episode (CI, or opt-in ``SWE_SRL_TEST_ENGINE_RESTART=1``).

    It stops every container on the machine, so it must only run where no one else uses the
    engine (CI's own machine, not beside other test runs). It restarts ``dockerd`` with
    the command line it runs with now. Expected: the episode's operations raise ``SandboxError``
    (the container is gone), and a new sandbox works once the engine is back.
    """
    sandbox = open_sandbox()
    assert_usable(sandbox)
    _restart_engine()
    _every_operation_raises_typed(sandbox)
    assert_usable(open_sandbox())
