"""The host account a local sandbox runs as (swe_srl.sandbox.identity), for real: useradd, setpriv, bwrap."""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from sandbox_cases import make_tiny_task

from swe_srl.sandbox import IsolationUnavailable, identity, make_sandbox
from swe_srl.sandbox.identity import USER_ENV_VAR, HostUser, sandbox_user

REPO_ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox account is made and used by root only")


@pytest.fixture
def fresh_identity(monkeypatch):
    """No account looked up yet in this process (the module caches what it found)."""
    monkeypatch.setattr(identity, "_cached", {})


@pytest.fixture(scope="module")
def tiny_task(tmp_path_factory):
    return make_tiny_task(tmp_path_factory.mktemp("src"))


def test_account_is_created_on_first_use_and_owns_the_workspace(
    fresh_identity, monkeypatch, tiny_task, tmp_path
):
    name = f"swe-srl-t{secrets.token_hex(3)}"
    monkeypatch.setenv(USER_ENV_VAR, name)
    try:
        user = sandbox_user()
        assert pwd.getpwnam(name).pw_uid == user.uid != 0
        with make_sandbox("local", tiny_task, cache_root=tmp_path / "cache") as box:
            assert box.run("id -u; echo x > made-inside").output == "0\n"
            assert os.stat(box.host_path("made-inside")).st_uid == user.uid
            assert os.stat(box.host_path("calc/ops.py")).st_uid == user.uid
            box.write_file("/testbed/new/dir/made-by-host.txt", "y")  # the host's writes belong to it too
            assert os.stat(box.host_path("new/dir")).st_uid == user.uid
            assert box.run("echo more >> new/dir/made-by-host.txt && rm -r new && echo ok").output == "ok\n"
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_privileged_account_is_refused(fresh_identity, monkeypatch):
    monkeypatch.setenv(USER_ENV_VAR, "root")
    with pytest.raises(IsolationUnavailable, match="unprivileged"):
        sandbox_user()


def test_account_that_cannot_be_created_is_a_clear_error(fresh_identity, monkeypatch, tmp_path):
    monkeypatch.setenv(USER_ENV_VAR, f"swe-srl-t{secrets.token_hex(3)}")
    monkeypatch.setenv("PATH", str(tmp_path))  # no useradd
    with pytest.raises(IsolationUnavailable, match=r"could not be created.*useradd --system"):
        sandbox_user()


def test_workspace_the_account_cannot_reach_is_a_clear_error(monkeypatch, tiny_task, tmp_path):
    private = Path(tempfile.mkdtemp(prefix="swe-srl-private."))  # mode 0700, root's
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(private))
        with pytest.raises(IsolationUnavailable, match=f"cannot reach.*{private} is not searchable"):
            make_sandbox("local", tiny_task, cache_root=tmp_path / "cache")
        assert not any((private / "swe-srl-ws").iterdir())  # nothing left behind
    finally:
        subprocess.run(["rm", "-rf", str(private)], check=True)


def test_blocked_at_names_the_first_unsearchable_directory():
    user = HostUser("nobody", pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    base = Path(tempfile.mkdtemp(prefix="swe-srl-reach."))  # mode 0700, root's
    try:
        (base / "a").mkdir(mode=0o700)
        (base / "a" / "b").mkdir(mode=0o700)
        assert user.blocked_at(base / "a" / "b") == base
        base.chmod(0o711)
        assert user.blocked_at(base / "a" / "b") == base / "a"
        (base / "a").chmod(0o711)
        (base / "a" / "b").chmod(0o711)
        assert user.blocked_at(base / "a" / "b") is None
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=True)


_UNPRIVILEGED = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from sandbox_cases import make_tiny_task
    from swe_srl.sandbox import make_sandbox
    root = Path({root!r})
    with make_sandbox("local", make_tiny_task(root / "src"), cache_root=root / "cache") as box:
        print(os.geteuid(), box.run("id -u; grep CapEff /proc/self/status; echo x > f").output.split())
        box.run("(setsid sh -c 'while :; do echo x >> /testbed/ticks; done' &); sleep 0.3")
        box.kill_processes()  # no cgroup here: the pid namespace's end is what proves every process died
        size = len(box.read_file("ticks"))
        time.sleep(0.5)
        stopped = size > 0 and size == len(box.read_file("ticks"))
        box.reset()
        print(box.diff() == "", os.stat(box.workspace).st_uid, stopped)
    """
)


def test_unprivileged_caller_runs_bubblewrap_as_itself(tmp_path):
    """swe-srl run by an ordinary user needs no account and no root: bwrap maps that user to 0."""
    nobody = pwd.getpwnam("nobody")
    python = sys.executable
    if HostUser("nobody", nobody.pw_uid, nobody.pw_gid).blocked_at(Path(python).resolve()) is not None:
        python = "/usr/bin/python3"  # this venv's interpreter lives where nobody may not go
    root = Path(tempfile.mkdtemp(prefix="swe-srl-unpriv."))
    root.chmod(0o777)
    try:
        run = subprocess.run(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--",
             python, "-c", _UNPRIVILEGED.format(tests=str(REPO_ROOT / "tests"), root=str(root))],
            env={"PATH": os.environ["PATH"], "HOME": str(root), "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        first, second = run.stdout.splitlines()
        assert first == f"{nobody.pw_uid} ['0', 'CapEff:', '0000000000000000']"
        assert second == f"True {nobody.pw_uid} True"
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)
