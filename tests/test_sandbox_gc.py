"""`swe-srl sandbox gc` spares the sandboxes of runs that are still going, and removes any other leftover."""

from __future__ import annotations

import os
import signal
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
    """The real command, sweeping only workspaces (``workspace_root()`` follows TMPDIR) and snapshots
    (under SWE_SRL_CACHE) in ``tmp_path``."""
    return subprocess.run(
        _gc_cli_argv(), env=_gc_cli_env(tmp_path), capture_output=True, text=True, timeout=120
    )


def _gc_cli_argv() -> list[str]:
    return [
        str(Path(sys.executable).with_name("swe-srl")),
        "sandbox",
        "gc",
        "--no-docker",
        "--older-than",
        "0",
    ]


def _gc_cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp_path), "SWE_SRL_CACHE": str(tmp_path / "cache")}


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


def _lower(cache: Path, name: str, last_use: float) -> Path:
    """A snapshot under ``cache``/lower last used at ``last_use`` (its marker's mtime)."""
    from swe_srl.sandbox.overlay import LOWER_DIRNAME, USED_DIRNAME

    snapshot = cache / LOWER_DIRNAME / name
    (snapshot / ".git").mkdir(parents=True)
    (snapshot / "module.py").write_text("x = 1\n")
    marker = cache / LOWER_DIRNAME / USED_DIRNAME / name
    marker.parent.mkdir(exist_ok=True)
    marker.touch()
    os.utime(marker, (last_use, last_use))
    return snapshot


def test_gc_removes_snapshots_unused_for_a_week_and_keeps_recent_ones(tmp_path):
    from swe_srl.sandbox.gc import gc_snapshots

    now = time.time()
    old = _lower(tmp_path, "old", now - 8 * 86400)
    recent = _lower(tmp_path, "recent", now - 86400)
    removed = gc_snapshots(cache_root=tmp_path, now=now)
    assert [(r.name, r.error) for r in removed] == [(str(old), "")]
    assert removed[0].age_seconds == pytest.approx(8 * 86400, abs=5)
    assert not old.exists() and (recent / "module.py").is_file()
    assert not (tmp_path / "lower" / ".used" / "old").exists()
    assert sorted(p.name for p in (tmp_path / "lower").iterdir()) == [".lock", ".used", "recent"]


def test_sandbox_gc_command_removes_unused_snapshots(tmp_path):
    old = _lower(tmp_path / "cache", "old", time.time() - 3 * 86400)
    kept = _lower(tmp_path / "cache", "kept", time.time() - 3600)
    cli = _gc_cli(tmp_path)  # the default (a week) keeps one three days unused
    assert cli.returncode == 0 and old.is_dir() and "snapshot" not in cli.stdout, cli.stdout + cli.stderr
    cli = subprocess.run([*_gc_cli_argv(), "--snapshots-unused-for", "86400"], env=_gc_cli_env(tmp_path),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"removed snapshot {old}" in cli.stdout and "1 snapshot(s) removed" in cli.stdout
    assert not old.exists() and kept.is_dir()


def test_gc_removes_half_made_and_half_removed_snapshots(tmp_path):
    from swe_srl.sandbox.gc import gc_snapshots

    now = time.time()
    lower = tmp_path / "lower"
    for name, age in ((".tmp-a-1", 7200), (".tmp-b-1", 60), (".trash-c-1", 60)):
        (lower / name / "tree").mkdir(parents=True)
        os.utime(lower / name, (now - age, now - age))
    removed = gc_snapshots(older_than=3600, cache_root=tmp_path, now=now)
    assert sorted(Path(r.name).name for r in removed) == [".tmp-a-1", ".trash-c-1"]
    assert (lower / ".tmp-b-1").is_dir()  # a snapshot being made right now


def test_gc_never_takes_a_snapshot_an_overlay_has_mounted(tmp_path):
    """A long episode on a snapshot last recorded as used a week ago keeps it; closed, it goes."""
    from swe_srl.sandbox.gc import gc_snapshots
    from swe_srl.sandbox.identity import sandbox_user
    from swe_srl.sandbox.overlay import OverlayWorkspace

    user = sandbox_user()
    if user is None:
        pytest.skip("overlays are mounted by swe-srl running as root")
    snapshot = _lower(tmp_path / "cache", "busy", time.time() - 30 * 86400)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    overlay = OverlayWorkspace(workspace, snapshot, user)
    try:
        assert gc_snapshots(cache_root=tmp_path / "cache") == []
        assert (overlay.merged / "module.py").read_text() == "x = 1\n"
    finally:
        overlay.close()
    assert [r.name for r in gc_snapshots(cache_root=tmp_path / "cache")] == [str(snapshot)]


def test_each_use_of_a_snapshot_counts_as_its_last_use(tmp_path):
    """lower_snapshot records the use, so a snapshot in daily use is never a week unused."""
    from swe_srl.sandbox.gc import gc_snapshots
    from swe_srl.sandbox.identity import sandbox_user
    from swe_srl.sandbox.overlay import lower_snapshot

    user = sandbox_user()
    if user is None:
        pytest.skip("overlay snapshots are made by swe-srl running as root")
    base = tmp_path / "base" / "abc123"
    base.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(base)], check=True)
    (base / "module.py").write_text("x = 1\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    first = lower_snapshot(base, user, tmp_path / "cache", scratch)
    marker = tmp_path / "cache" / "lower" / ".used" / "abc123"
    week_ago = time.time() - 8 * 86400
    os.utime(marker, (week_ago, week_ago))
    assert lower_snapshot(base, user, tmp_path / "cache", scratch) == first  # used again today
    assert gc_snapshots(cache_root=tmp_path / "cache") == [] and first.is_dir()
    later = time.time() + 8 * 86400
    assert [r.name for r in gc_snapshots(cache_root=tmp_path / "cache", now=later)] == [str(first)]


REMOVER = """
import signal, sys
from pathlib import Path
from swe_srl.sandbox.localfs import remove_tree
signal.signal(signal.SIGINT, lambda *_: None)  # as a run does while it closes its sandboxes
print("removing", flush=True)
print(repr(remove_tree(Path(sys.argv[1]))), flush=True)
"""


def _children_named(pid: int, name: str) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, _, rest = text.partition("(")[2].rpartition(")")
        if int(rest.split()[1]) == pid and comm == name:
            found.append(int(stat.parent.name))
    return found


def _remover_signalled_while_rm_runs(doomed: Path) -> subprocess.Popen | None:
    """A remover of ``doomed`` sent Ctrl-C while its ``rm`` runs; None if ``rm`` ended unseen."""
    for d in range(20):
        (doomed / str(d)).mkdir(parents=True)
        for f in range(1000):
            (doomed / str(d) / str(f)).touch()
    remover = subprocess.Popen(
        [sys.executable, "-c", REMOVER, str(doomed)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert remover.stdout.readline() == "removing\n"
    while not _children_named(remover.pid, "rm"):
        if remover.poll() is not None:
            remover.communicate()
            return None
        time.sleep(0.002)
    os.killpg(remover.pid, signal.SIGINT)  # what the terminal sends
    return remover


def test_ctrl_c_does_not_cut_short_the_removal_of_a_workspace(tmp_path):
    """A terminal's Ctrl-C reaches the whole foreground group: the `rm` of a closing sandbox too."""
    import tempfile

    # Enough files that `rm` is seen running; on a tmpfs where there is one, as making them on a
    # busy disk takes longer than removing them.
    shm = Path("/dev/shm")
    scratch = Path(tempfile.mkdtemp(dir=shm if os.access(shm, os.W_OK) else tmp_path))
    try:
        for _ in range(10):  # a starved test process may not see a quick `rm` at all: try again
            remover = _remover_signalled_while_rm_runs(scratch / "workspace")
            if remover is not None:
                break
        else:
            pytest.fail("rm was never seen running")
        assert remover.communicate(timeout=120)[0] == "None\n"
        assert not (scratch / "workspace").exists()
    finally:
        remove_tree(scratch)
