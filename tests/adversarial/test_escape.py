"""Escapes: root inside a sandbox tries to act as root on the host.

The local sandbox's uid 0 maps to an unprivileged host user with every capability dropped and no
further user namespaces; the Docker sandbox keeps the engine's default seccomp profile, drops the
capabilities the tools do not need and sets ``no-new-privileges``. Each test tries one privileged
operation from an agent's step (or from a model patch while the grader runs its tests) and asserts
that it failed and left the host as it was.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from attacks import assert_usable, bash, host_processes_running, wait_until

from swe_srl.eval.grader import SandboxGrader

CAP_SYS_ADMIN, CAP_NET_RAW, CAP_MKNOD, CAP_SYS_CHROOT, CAP_SETFCAP = 21, 13, 27, 18, 31


def _status_field(sandbox, field: str) -> str:
    line = bash(sandbox, f"grep '^{field}:' /proc/self/status").observation
    return line.partition(":")[2].strip()


def test_remount_readonly_binds_rw(sandbox):
    """`mount -o remount,bind,rw /etc` (or /usr) and write host files as root."""
    token = secrets.token_hex(6)
    planted = [Path(f"/etc/swe-srl-{token}"), Path(f"/usr/swe-srl-{token}")]
    try:
        result = bash(
            sandbox,
            f"for d in /etc /usr /; do mount -o remount,bind,rw $d && echo REMOUNTED $d; done; "
            f"echo pwned > {planted[0]}; echo pwned > {planted[1]}; echo done",
        )
        assert "REMOUNTED /etc" not in result.observation and "REMOUNTED /usr" not in result.observation
        assert not any(path.exists() for path in planted)
    finally:
        for path in planted:  # a hole must not leave the host changed
            path.unlink(missing_ok=True)
    assert_usable(sandbox)


def test_unmount_secret_masks(sandbox):
    """Unmount what hides /etc/shadow, /etc/ssh and /usr/local to read the host's files behind it."""
    result = bash(
        sandbox, "for m in /etc/shadow /etc/ssh /usr/local; do umount $m && echo UNMOUNTED $m; done"
    )
    assert "UNMOUNTED" not in result.observation
    if sandbox.kind == "local":
        assert (
            bash(sandbox, "wc -c < /etc/shadow; find /usr/local /etc/ssh -mindepth 1 | wc -l").observation
            == "0\n0"
        )
    assert_usable(sandbox)


def test_plant_executable_on_host_path(sandbox):
    """Unmask /usr/local and plant an executable where the host's PATH finds it."""
    planted = Path(f"/usr/local/bin/swe-srl-pwn-{secrets.token_hex(4)}")
    try:
        bash(
            sandbox,
            "umount -l /usr/local; mount -o remount,bind,rw /usr; "
            f"mkdir -p /usr/local/bin && printf '#!/bin/sh\\n' > {planted}",
        )
        assert not planted.exists()
    finally:
        planted.unlink(missing_ok=True)
    assert_usable(sandbox)


def test_write_host_sysctl(sandbox):
    """Write a host-global sysctl (the value written back is the current one: harmless if it lands)."""
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    result = bash(
        sandbox,
        "v=$(cat /proc/sys/kernel/core_pattern); printf '%s\\n' \"$v\" > /proc/sys/kernel/core_pattern "
        "&& echo WROTE-SYSCTL; "
        "python3 -c \"open('/proc/sysrq-trigger', 'w')\" 2>/dev/null && echo OPENED-SYSRQ; "
        "echo 1 > /sys/kernel/mm/ksm/run 2>/dev/null && echo WROTE-SYS; true",
    )
    for hole in ("WROTE-SYSCTL", "OPENED-SYSRQ", "WROTE-SYS"):
        assert hole not in result.observation, result.observation
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before
    assert_usable(sandbox)


def test_mount_cgroup_and_raise_own_limits(sandbox):
    """Mount a cgroup hierarchy inside the sandbox and raise its own pids.max / memory limit."""
    limits_before = _host_limits(sandbox)
    result = bash(
        sandbox,
        "mkdir -p /tmp/cg /tmp/cg2; mount -t cgroup -o pids none /tmp/cg && echo MOUNTED-V1; "
        "mount -t cgroup2 none /tmp/cg2 && echo MOUNTED-V2; "
        "for f in $(find /tmp/cg /tmp/cg2 /sys/fs/cgroup -name pids.max -o -name memory.limit_in_bytes "
        "-o -name memory.max 2>/dev/null); do "
        "echo max > $f 2>/dev/null; echo 999999999999 > $f 2>/dev/null; done; "
        "true",
        timeout=30,
    )
    assert "MOUNTED-V1" not in result.observation and "MOUNTED-V2" not in result.observation
    assert _host_limits(sandbox) == limits_before
    assert_usable(sandbox)


def _host_limits(sandbox) -> dict[str, str]:
    """The sandbox's own cgroup limits as the host sees them (local backend; empty for Docker)."""
    jail = getattr(sandbox, "_jail", None)
    found = {}
    for directory in jail.dirs if jail else []:
        for name in ("pids.max", "memory.limit_in_bytes", "memory.max"):
            if (directory / name).is_file():
                found[str(directory / name)] = (directory / name).read_text()
    return found


def test_nested_user_namespace_regains_privilege(sandbox):
    """A fresh user namespace inside would hand root back every capability over its own mounts."""
    result = bash(sandbox, "unshare -Urm sh -c 'mount -t tmpfs none /testbed && echo REGAINED'; true")
    assert "REGAINED" not in result.observation
    assert bash(sandbox, "cat README.md").observation == "tiny calculator"
    assert_usable(sandbox)


def test_root_inside_holds_no_dangerous_capability(sandbox):
    effective = int(_status_field(sandbox, "CapEff"), 16)
    bounding = int(_status_field(sandbox, "CapBnd"), 16)
    if sandbox.kind == "local":
        assert effective == 0 and bounding == 0
    for cap in (CAP_SYS_ADMIN, CAP_NET_RAW, CAP_MKNOD, CAP_SYS_CHROOT, CAP_SETFCAP):
        assert not effective & (1 << cap) and not bounding & (1 << cap), cap
    assert _status_field(sandbox, "NoNewPrivs") == "1"
    assert _status_field(sandbox, "Seccomp") == "2" or sandbox.kind == "local"  # Docker's default profile


@pytest.mark.parametrize("backend", ["local"])
def test_sandbox_root_is_an_unprivileged_host_user(sandbox):
    """The host sees the sandbox's processes, and none of them runs as host root."""
    token = f"{secrets.randbelow(10**6) + 10**6}"
    bash(sandbox, f"setsid sleep {token} >/dev/null 2>&1 &")
    pids = wait_until(lambda: host_processes_running(f"sleep {token}"))
    assert pids
    for pid in pids:
        uids = Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split("\n")[0].split()
        assert "0" not in uids, uids
    assert bash(sandbox, "id -u").observation == "0"  # still root inside, as tools expect


@pytest.mark.parametrize("backend", ["local"])
def test_patch_under_grading_remounts_host_dirs(backend, task):
    """A model patch whose code runs while the grader's tests run tries the same escape."""
    token = secrets.token_hex(6)
    target = Path(f"/etc/swe-srl-grader-{token}")
    attack = f"mount -o remount,bind,rw /etc && echo pwned > {target}; umount /etc/shadow"
    patch = (
        "diff --git a/durata/__init__.py b/durata/__init__.py\n--- a/durata/__init__.py\n"
        "+++ b/durata/__init__.py\n@@ -1,2 +1,4 @@\n"
        ' """durata: parse and format human-readable durations such as ``1h 30m`` or ``2:05``."""\n'
        f"+import os\n+os.system({attack!r})\n \n"
    )
    try:
        result = SandboxGrader("local", test_timeout=60).grade(task, patch)
        assert result.status != "patch_failed", result.reason
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("backend", ["local"])
def test_write_through_to_the_overlays_cached_tree(open_sandbox):
    """The overlay workspace names its lower layer (the cached tree) in mountinfo: reach it and write.

    Inside, the path does not exist (nothing of the host is mounted there); on the host, the
    sandbox's account cannot traverse the root-only directory holding it; and an overlay never
    writes its lower layer, so vandalising every file of /testbed leaves the cached tree as it was.
    """
    import os
    import subprocess

    from swe_srl.sandbox.identity import sandbox_user

    sandbox = open_sandbox()
    if getattr(sandbox, "workspace_mode", "copy") != "overlay":
        pytest.skip("the workspace is a copy here (swe-srl not running as root)")
    lower = bash(sandbox, "grep -o 'lowerdir=[^,]*' /proc/self/mountinfo | head -1 | cut -d= -f2").observation
    assert lower.startswith("/") and Path(lower).is_dir()
    before = {p: p.read_bytes() for p in Path(lower).rglob("*") if p.is_file()}
    inside = bash(sandbox, f"ls {lower} 2>&1; touch {lower}/pwned 2>&1; echo rc=$?").observation
    assert "rc=0" not in inside and not (Path(lower) / "pwned").exists()
    account = sandbox_user()
    outside = subprocess.run(
        ["runuser", "-u", account.name, "--", "touch", f"{lower}/pwned"], capture_output=True, text=True
    )
    assert outside.returncode != 0 and "Permission denied" in outside.stderr
    bash(sandbox, "find /testbed -type f -exec sh -c 'echo junk > \"$1\"' _ {} \\; ; rm -rf /testbed/*")
    assert {p: p.read_bytes() for p in Path(lower).rglob("*") if p.is_file()} == before
    assert os.stat(Path(lower)).st_uid == account.uid  # owned by the account...
    assert os.stat(Path(lower).parent).st_mode & 0o077 == 0  # ...behind a directory it cannot enter
    sandbox.reset()
    assert bash(sandbox, "git status --porcelain | wc -l").observation == "0"
