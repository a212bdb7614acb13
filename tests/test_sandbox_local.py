"""The local (bubblewrap) sandbox, for real: bwrap, bash, git and pytest, nothing mocked."""

from __future__ import annotations

import os
import statistics
import time

import pytest
from sandbox_cases import *  # noqa: F403 (the shared behaviour tests, listed in its __all__)
from sandbox_cases import make_tiny_task

from swe_srl.sandbox import IsolationUnavailable, Sandbox, make_sandbox
from swe_srl.sandbox.local import LocalSandbox


@pytest.fixture(scope="module")
def tiny_task(tmp_path_factory):
    return make_tiny_task(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(params=["auto", "copy"])
def sandbox(tiny_task, cache_root, request):
    """Every shared behaviour holds for both workspaces: the overlay (auto, as root) and the copy."""
    box = make_sandbox("local", tiny_task, cache_root=cache_root, workspace=request.param)
    yield box
    box.close()


def test_local_is_the_protocol_and_says_its_kind(sandbox):
    assert isinstance(sandbox, Sandbox) and sandbox.kind == "local"


def test_writes_outside_testbed_fail(sandbox):
    result = sandbox.run(
        "touch /etc/x; touch /usr/x; touch /x; touch /usr/local/x; echo ok > /tmp/t; cat /tmp/t"
    )
    assert result.output.count("Read-only file system") == 4
    assert result.output.endswith("ok\n")
    assert not os.path.exists("/etc/x") and not os.path.exists("/usr/x")


def test_secrets_are_hidden(sandbox):
    assert sandbox.run("cat /etc/shadow 2>/dev/null | wc -c").output == "0\n"
    assert sandbox.run("ls -A /root; ls /usr/local").output == ""


def test_workspace_files_are_not_shared_with_the_cache(sandbox, cache_root):
    sandbox.run("echo changed > README.md")
    (cached,) = (cache_root / "base").glob("*/README.md")
    assert cached.read_text() == "tiny calculator\n"
    assert os.stat(sandbox.host_path("README.md")).st_ino != os.stat(cached).st_ino


def test_missing_bwrap_raises_unless_opted_out(tiny_task, cache_root, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without bwrap
    monkeypatch.delenv("SWE_SRL_UNSAFE_NO_SANDBOX", raising=False)
    with pytest.raises(IsolationUnavailable, match="bubblewrap"):
        LocalSandbox(tiny_task, cache_root=cache_root)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with LocalSandbox(tiny_task, cache_root=cache_root, isolation=False) as box:
        assert box.run("cat calc/ops.py; export X=1").output.endswith("a - b\n")
        assert box.run("echo $X; pwd").output == f"1\n{box.workspace}\n"
        assert box.run("sleep 100", timeout=1).timed_out
        box.write_file("/testbed/new.txt", "n\n")
        assert "+++ b/new.txt" in box.diff()


def test_trivial_step_is_fast(sandbox):
    for _ in range(20):
        sandbox.run("true")
    times = []
    for _ in range(100):
        started = time.perf_counter()
        sandbox.run("true")
        times.append(time.perf_counter() - started)
    # Target is 5 ms on an idle machine; the bound leaves room for a loaded CI box.
    assert statistics.median(times) < 0.015


def _cache_digest(cache_root) -> dict[str, bytes]:
    files = sorted(p for p in cache_root.rglob("*") if p.is_file() and not p.is_symlink())
    return {str(p): p.read_bytes() for p in files}


@pytest.mark.parametrize("mode", ["copy", "overlay"])
def test_agent_cannot_poison_cached_git_objects(tiny_task, cache_root, mode):
    """Rewriting every object file in one episode leaves the next episode's repository intact.

    Copy: the object files are the cache's own inodes, read-only to the sandbox's user, so writing
    them in place is refused and replacing them only changes this workspace's copy. Overlay: every
    write lands in the episode's upper layer; the snapshot below and the cache are byte-identical.
    """
    if mode == "overlay" and os.geteuid() != 0:
        pytest.skip("the overlay workspace is made by swe-srl running as root")
    with make_sandbox("local", tiny_task, cache_root=cache_root, workspace=mode) as first:
        before = _cache_digest(cache_root)
        in_place = first.run(
            'find /testbed/.git/objects -type f | while read f; do chmod u+w "$f"; echo junk > "$f"; done; '
            "git -C /testbed fsck >/dev/null 2>&1; echo fsck=$?"
        )
        if mode == "copy":
            assert "fsck=0" in in_place.output and "Permission denied" in in_place.output
        vandal = first.run(
            'find /testbed/.git/objects -type f | while read f; do rm -f "$f"; echo junk > "$f"; done; '
            "git -C /testbed fsck >/dev/null 2>&1; echo fsck=$?"
        )
        assert "fsck=0" not in vandal.output
        assert _cache_digest(cache_root) == before
    with make_sandbox("local", tiny_task, cache_root=cache_root, workspace=mode) as second:
        check = second.run(
            "git -C /testbed fsck --full >/dev/null 2>&1; echo fsck=$?; git -C /testbed log --oneline | wc -l"
        )
        assert "fsck=0" in check.output
        assert second.diff() == ""


def test_swapped_symlink_between_check_and_open_is_refused(tmp_path):
    """A path checked inside the workspace, then swapped for a symlink out of it, is never written."""
    from swe_srl.sandbox.base import SandboxError
    from swe_srl.sandbox.local import open_inside

    workspace, outside = tmp_path / "ws", tmp_path / "host"
    workspace.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("host data")
    (workspace / "sub").symlink_to(outside)  # what a racing process would have swapped in
    with pytest.raises(SandboxError, match="outside the workspace"):
        open_inside(workspace, workspace / "sub" / "secret", os.O_WRONLY)
    assert (outside / "secret").read_text() == "host data"  # not truncated
    with pytest.raises(SandboxError, match="outside the workspace"):
        open_inside(workspace, workspace / "sub" / "new.txt", os.O_WRONLY)
    assert not (outside / "new.txt").exists()  # created, detected, removed
    with pytest.raises(SandboxError, match="outside the workspace"):
        open_inside(workspace, workspace / "sub" / "secret", os.O_RDONLY)
    (workspace / "link").symlink_to(outside / "secret")
    with pytest.raises(OSError):  # the last component is never followed
        open_inside(workspace, workspace / "link", os.O_RDONLY)


def test_overlay_index_matches_the_files_so_diffs_hash_nothing(tiny_task, tmp_path):
    """The snapshot's git index is refreshed as episodes see the files: no file looks modified, so
    the per-step diff hashes nothing it need not (a stale index costs a full read of the tree)."""
    if os.geteuid() != 0:
        pytest.skip("the overlay workspace is made by swe-srl running as root")
    cache = tmp_path / "cache"
    for _ in range(2):  # the snapshot's first user, then one that finds it made
        with make_sandbox("local", tiny_task, cache_root=cache, workspace="overlay") as box:
            assert box.workspace_mode == "overlay"
            assert box.run("git diff-files --name-only | wc -l").output == "0\n"
            assert not (box.root / "upper" / ".git" / "index").exists()  # nothing rewrote it either


@pytest.mark.parametrize("mode", ["auto", "copy"])
def test_sandbox_starts_on_a_host_without_etc_gitconfig(tiny_task, cache_root, monkeypatch, mode):
    """Many hosts have no /etc/gitconfig; bubblewrap cannot bind over a file the read-only /etc lacks."""
    from swe_srl.sandbox import bwrap

    monkeypatch.setattr(bwrap, "HOST_GITCONFIG", "/etc/swe-srl-no-such-gitconfig")
    with make_sandbox("local", tiny_task, cache_root=cache_root, workspace=mode) as box:
        assert box.run("git config --system --get user.email").output == "swe-srl@localhost\n"
        assert box.run(f"echo '[user]name=agent' >> {bwrap.FALLBACK_GITCONFIG}").exit_code != 0
        listing = "safe.directory=*\nuser.email=swe-srl@localhost\nuser.name=swe-srl\n"
        assert box.run("git config --system --list").output == listing  # nothing of the host's
        assert box.run("ls /usr/local; git status --short; echo done").output == "done\n"
