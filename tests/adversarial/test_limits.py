"""The resource-limit plumbing of the local sandbox (``swe_srl.sandbox.limits``), for real."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from swe_srl.sandbox.limits import (
    CgroupJail,
    DiskWatch,
    PidsWatch,
    ResourceLimits,
    disk_watch,
    gc_cgroups,
)


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="pids"):
        ResourceLimits(pids=0)


def test_limits_must_be_positive_but_the_disk_reserve_may_be_off(tmp_path):
    with pytest.raises(ValueError, match="disk_reserve_bytes"):
        ResourceLimits(disk_reserve_bytes=-1)
    with pytest.raises(ValueError, match="inode_reserve"):
        ResourceLimits(inode_reserve=-1)
    assert disk_watch(tmp_path, ResourceLimits(disk_reserve_bytes=0, inode_reserve=0)) is None
    assert disk_watch(tmp_path, ResourceLimits(disk_reserve_bytes=0)) is not None  # inodes are watched
    assert disk_watch(tmp_path / "gone", ResourceLimits()) is None


def test_disk_watch_stops_writers_below_the_reserve_only(tmp_path):
    # A reserve above what is free: the disk is "already full" when the command starts.
    watch = DiskWatch(tmp_path, shutil.disk_usage(tmp_path).free + (1 << 30), slack_bytes=8 << 20)
    watch.arm()
    assert watch.check() == ""  # a command that writes nothing is never stopped
    (tmp_path / "small").write_bytes(b"x" * (1 << 20))
    assert watch.check() == ""  # within the slack (logs, .pyc files)
    (tmp_path / "big").write_bytes(b"x" * (32 << 20))
    assert "free space fell below" in watch.check()
    (tmp_path / "big").unlink()
    watch.arm()
    assert watch.check() == ""
    roomy = DiskWatch(tmp_path, 1 << 20)  # plenty of space above a 1 MiB reserve
    roomy.arm()
    (tmp_path / "big").write_bytes(b"x" * (32 << 20))
    assert roomy.check() == ""


def test_rearming_below_the_reserve_forgives_nothing(tmp_path):
    """Each command re-arms the watch; below the reserve that must not forgive the last step's writes."""
    watch = DiskWatch(tmp_path, shutil.disk_usage(tmp_path).free + (1 << 30), slack_bytes=8 << 20)
    for step in range(4):  # 5 MiB per step, each under the slack on its own
        watch.arm()
        (tmp_path / f"part{step}").write_bytes(b"x" * (5 << 20))
        os.sync()
    assert "free space fell below" in watch.check()
    watch.accept()  # after the trip, what is missing is the baseline: the next step is not killed
    assert watch.check() == ""


@pytest.fixture
def jail():
    box = CgroupJail(f"limits-test.{os.getpid()}.0.x", ResourceLimits(pids=32, memory_bytes=256 << 20))
    if box.enforced != {"pids", "memory"}:
        box.release()
        pytest.skip(f"no writable pids+memory cgroups here (enforced: {box.enforced})")
    yield box
    box.release()


def test_wrapped_command_is_born_in_the_cgroup_under_rlimits(jail):
    script = "cat /proc/self/cgroup; ulimit -f; ulimit -n; for i in $(seq 60); do sleep 2 & done; wait"
    out = subprocess.run(jail.wrap(["bash", "-c", script]), capture_output=True, text=True, timeout=60)
    assert f"pids:/swe-srl/{jail.name}" in out.stdout or jail.name in out.stdout
    assert f"{(2 << 30) // 1024}\n4096\n" in out.stdout  # bash reports fsize in KiB
    assert "fork" in out.stderr  # the 33rd process was refused
    assert jail.watch().files


def test_pids_watch_trips_once_per_refusal(jail):
    watch = jail.watch()
    assert not watch.tripped()
    subprocess.run(
        jail.wrap(["bash", "-c", "for i in $(seq 60); do sleep 1 & done; wait"]), capture_output=True
    )
    assert watch.tripped() and not watch.tripped()
    assert not PidsWatch([]).tripped()


def test_release_kills_leftovers_and_gc_sweeps_empty_cgroups(jail):
    proc = subprocess.Popen(jail.wrap(["sleep", "600"]))
    try:
        for _ in range(100):
            if jail.pids():
                break
            subprocess.run(["sleep", "0.05"])
        assert jail.pids() == [proc.pid]
        jail.release()
        assert proc.wait(timeout=5) == -9 and jail.dirs == []
    finally:
        proc.kill()
    mine = CgroupJail(f"limits-live.{os.getpid()}.0.x", ResourceLimits())
    dead_pid = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout.strip()
    orphan = CgroupJail(f"limits-orphan.{dead_pid}.0.x", ResourceLimits())
    try:
        assert orphan.dirs and all(d.is_dir() for d in orphan.dirs)
        removed = gc_cgroups()
        assert set(orphan.dirs) <= set(removed) and not any(d.exists() for d in orphan.dirs)
        assert all(d.is_dir() for d in mine.dirs)  # its owner (this process) still runs
    finally:
        mine.release()
