"""Attacks an untrusted agent could make, each through the real tools, on both sandbox backends.

Each test asserts containment: the host is untouched and the next step works (or a typed
``SandboxError`` is raised). Limits are :data:`conftest.TEST_LIMITS` (256 processes, 1 GiB of
memory, 64 MiB per file and per tmpfs), so an attack hits the wall within seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path

import docker
import pytest
from attacks import (
    TEST_LIMITS,
    assert_usable,
    bash,
    editor,
    host_processes_running,
    pids_alive,
    sandboxed_process_count,
    wait_until,
)

from swe_srl.sandbox import DEFAULT_OUTPUT_LIMIT, SandboxError, make_sandbox
from swe_srl.sandbox.local import workspace_root
from swe_srl.sandbox.shell import GRACE_SECONDS
from swe_srl.tools.executor import TIMEOUT_MESSAGE

# Command lines of every process in the sandbox (the base image has no `ps`).
PROCS = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done 2>/dev/null"


def _peak_sandboxed_processes(stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], sandboxed_process_count())
        time.sleep(0.05)


def test_fork_bomb(sandbox):
    before = sandboxed_process_count()
    stop, peak = threading.Event(), [before]
    watcher = threading.Thread(target=_peak_sandboxed_processes, args=(stop, peak), daemon=True)
    watcher.start()
    try:
        bomb = bash(sandbox, ":(){ :|:& };:", timeout=5)  # returns at once: the bomb goes to the background
        time.sleep(1.5)  # let it reach the ceiling
        started = time.monotonic()
        after = bash(sandbox, "true", timeout=20)
    finally:
        stop.set()
        watcher.join()
    # The sandbox noticed the refused forks (during the bomb's step or the next one) and killed
    # the bomb at once: the next step did not hang until its timeout.
    assert time.monotonic() - started < 10, after
    assert "process limit" in bomb.observation + after.observation
    # The bomb never got past the sandbox's process ceiling (counted outside the sandbox's view).
    assert peak[0] - before <= TEST_LIMITS.pids + 16, (before, peak[0])
    assert_usable(sandbox)
    assert int(bash(sandbox, f"{PROCS} | wc -l").observation) < 20


def test_memory_hog(sandbox):
    result = bash(sandbox, "python3 -c 'b = bytearray(3 << 30); print(len(b))'", timeout=60)
    assert result.exit_code != 0 and str(3 << 30) not in result.observation
    shell_hog = bash(sandbox, "x=$(head -c 2000000000 /dev/zero | tr '\\0' a); echo ${#x}", timeout=60)
    assert "2000000000" not in shell_hog.observation
    assert_usable(sandbox)


def test_fill_disk_with_one_file(sandbox):
    limit = TEST_LIMITS.file_size_bytes
    result = bash(sandbox, f"head -c {4 * limit} /dev/zero > big.bin; echo rc=$?", timeout=60)
    assert "rc=0" not in result.observation
    size = bash(sandbox, "stat -c %s big.bin").observation
    assert int(size) <= limit
    bash(sandbox, "rm -f big.bin")
    assert_usable(sandbox)


def _disk_of(backend: str) -> Path:
    """The filesystem a sandbox of ``backend`` writes its workspace to on this machine."""
    if backend == "local":
        workspace_root().mkdir(parents=True, exist_ok=True)
        return workspace_root()
    client = docker.from_env()
    try:
        return Path(client.info()["DockerRootDir"])
    finally:
        client.close()


def test_fill_disk_with_many_files(backend, tiny_task, cache_root):
    """Many files, each under the file-size limit: stopped at the reserve of free disk space."""
    disk = _disk_of(backend)
    reserve = shutil.disk_usage(disk).free - (64 << 20)  # this run's writer crosses it after ~64 MiB
    limits = dataclasses.replace(TEST_LIMITS, disk_reserve_bytes=reserve)
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=limits) as box:
        bash(box, "export MARK=set; cd calc")
        filler = "for i in $(seq 200); do head -c 4000000 /dev/zero > /testbed/fill.$i; sleep 0.02; done"
        result = bash(box, f"{filler}; echo finished", timeout=120)
        free_after = shutil.disk_usage(disk).free
        assert "finished" not in result.observation
        assert "free space fell below" in result.observation, result.observation
        # Stopped within a poll of crossing the reserve (other writers on this machine add noise).
        assert free_after > reserve - (48 << 20), (reserve - free_after) >> 20
        assert int(bash(box, "ls /testbed | grep -c fill").observation) < 60
        assert bash(box, "echo [$MARK]").observation == "[]"  # the shell was restarted...
        assert_usable(box)  # ...at /testbed, and works
        bash(box, "rm -f /testbed/fill.*")  # freeing space is never stopped
        assert bash(box, "head -c 1000000 /dev/zero > small.bin; echo ok").observation == "ok"


def test_fill_tmp(sandbox):
    limit = TEST_LIMITS.tmpfs_bytes
    fill = f"head -c {limit // 2} /dev/zero > /tmp/fill.$i || break"
    script = f"for i in 1 2 3 4 5 6; do {fill}; done; du -sb /tmp"
    result = bash(sandbox, script, timeout=60)
    used = int(result.observation.split()[-2])
    # local: a sized tmpfs; docker: /tmp is in the container layer, bounded per file by fsize only.
    if sandbox.kind == "local":
        assert used <= limit + (1 << 20), result.observation
    bash(sandbox, "rm -f /tmp/fill.*")
    assert_usable(sandbox)


def test_endless_output(sandbox):
    started = time.monotonic()
    result = bash(sandbox, "yes 'spam spam spam'", timeout=4)
    assert time.monotonic() - started < 4 + GRACE_SECONDS + 3
    assert result.timed_out
    assert len(result.observation) < DEFAULT_OUTPUT_LIMIT + 2000
    binary = bash(sandbox, "cat /dev/urandom", timeout=3)
    assert binary.timed_out and len(binary.observation) < DEFAULT_OUTPUT_LIMIT + 2000
    assert_usable(sandbox)


def test_sleep_forever(sandbox):
    started = time.monotonic()
    result = bash(sandbox, "sleep infinity", timeout=2)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code == 124 and 1.9 < elapsed < 2 + GRACE_SECONDS
    assert TIMEOUT_MESSAGE.format(command="sleep infinity", timeout=2) in result.observation
    assert_usable(sandbox)


def test_background_process_outlives_step(sandbox):
    token = f"{secrets.randbelow(10**6) + 10**6}"
    result = bash(
        sandbox,
        f"nohup sleep {token} >/dev/null 2>&1 & disown; setsid sleep {int(token) + 1} & "
        f"(trap '' HUP TERM; sleep {int(token) + 2}) & echo spawned",
        timeout=10,
    )
    assert result.observation == "spawned"
    assert_usable(sandbox)
    # Still running, as on a shell (a busy machine may take a moment to exec them).
    assert any(f"sleep {token}" in bash(sandbox, f"sleep 0.2; {PROCS}").observation for _ in range(10))
    sandbox.reset()
    assert f"sleep {token}" not in bash(sandbox, PROCS).observation
    assert_usable(sandbox)
    bash(sandbox, f"setsid nohup sleep {token} >/dev/null 2>&1 &")
    pids = wait_until(lambda: host_processes_running(f"sleep {token}"))
    assert pids  # the host sees the sandbox's processes...
    sandbox.close()
    assert wait_until(lambda: not pids_alive(pids)), pids_alive(pids)  # ...and none outlive close()


def test_write_outside_testbed(sandbox):
    token = secrets.token_hex(6)
    home = Path.home()
    targets = [f"{where}/swe-srl-{token}" for where in ("/etc", "", "$HOME", "/usr")]
    bash(sandbox, "; ".join(f"echo pwned > {t}" for t in targets) + f"; echo pwned > {home}/swe-srl-{token}")
    editor(sandbox, command="create", path=f"/testbed/../etc/swe-srl-ed-{token}", file_text="pwned")
    editor(sandbox, command="create", path=f"/root/swe-srl-ed-{token}", file_text="pwned")
    for path in (
        Path(f"/etc/swe-srl-{token}"),
        Path(f"/swe-srl-{token}"),
        home / f"swe-srl-{token}",
        Path(f"/usr/swe-srl-{token}"),
        Path(f"/etc/swe-srl-ed-{token}"),
        Path(f"/root/swe-srl-ed-{token}"),
    ):
        assert not path.exists(), path
    assert_usable(sandbox)


def test_read_host_secrets(open_sandbox, monkeypatch, tmp_path):
    token = secrets.token_hex(12)
    monkeypatch.setenv("SWE_SRL_SECRET_TEST", token)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(token)
    root_secret = Path("/root") / f".swe_srl_secret_{token[:8]}"
    root_secret.write_text(token)
    try:
        sandbox = open_sandbox()
        commands = [
            "env",
            f"cat {secret_file}",
            f"cat {root_secret}",
            "cat /proc/1/environ /proc/*/environ 2>/dev/null | tr '\\0' '\\n'",
            # The pattern is assembled in the shell so the command line itself never holds the token.
            f'grep -rls "$(printf %s {token[:12]} {token[12:]})" /tmp /root /etc /testbed | head',
        ]
        for command in commands:
            assert token not in bash(sandbox, command).observation, command
        bash(sandbox, f"ln -s {secret_file} leak.txt; ln -s {root_secret} leak2.txt")
        for path in (str(secret_file), str(root_secret), "/testbed/leak.txt", "/testbed/leak2.txt"):
            assert token not in editor(sandbox, command="view", path=path).observation, path
        with pytest.raises(SandboxError):
            sandbox.read_file("/testbed/leak.txt")
    finally:
        root_secret.unlink()
    assert_usable(sandbox)


def _listen() -> tuple[socket.socket, list[object]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    accepted: list[object] = []

    def serve():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                accepted.append(server.accept())
            except OSError:
                if server.fileno() < 0:
                    return

    threading.Thread(target=serve, daemon=True).start()
    return server, accepted


def test_network(sandbox):
    server, accepted = _listen()
    port = server.getsockname()[1]
    connect = "import socket; socket.create_connection"
    probes = {
        "dns": "import socket; print(socket.getaddrinfo('example.com', 80))",
        "host": f"{connect}(('127.0.0.1', {port}), timeout=2); print('CONNECTED')",
        "outside": f"{connect}(('1.1.1.1', 53), timeout=2); print('CONNECTED')",
    }
    try:
        for name, script in probes.items():
            result = bash(sandbox, f'python3 -c "{script}"', timeout=15)
            assert result.exit_code != 0 and "CONNECTED" not in result.observation, name
            assert "Traceback" in result.observation, (name, result.observation)
        bash_tcp = bash(sandbox, f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo CONNECTED")
        assert "CONNECTED" not in bash_tcp.observation
    finally:
        server.close()
    assert accepted == []
    assert_usable(sandbox)


@pytest.mark.parametrize(
    "suicide", ["kill -9 $$", "exec false", "exit", "exit 255", "kill -9 -1", "kill -STOP $$; sleep 30"]
)
def test_kill_own_shell(sandbox, suicide):
    with contextlib.suppress(SandboxError):  # a typed error is acceptable; the sandbox must still work
        bash(sandbox, suicide, timeout=3)
    assert_usable(sandbox)


def test_editor_escapes(sandbox, tmp_path):
    host_file = tmp_path / "host.txt"
    host_file.write_text("host content\n")
    bash(sandbox, f"ln -s {host_file} hostlink; ln -s /etc/hostname etclink; ln -s .. up")
    attempts = [
        dict(command="create", path="/testbed/../escape.txt", file_text="x"),
        dict(command="create", path="/testbed/up/escape.txt", file_text="x"),
        dict(command="create", path=str(host_file), file_text="overwritten"),
        dict(command="str_replace", path="/testbed/hostlink", old_str="host", new_str="pwned"),
        dict(command="create", path="/testbed/etclink", file_text="pwned"),
        dict(command="view", path="/testbed/../"),
        dict(command="create", path="../relative.txt", file_text="x"),
    ]
    for args in attempts:
        result = editor(sandbox, **args)
        assert result.exit_code != 0, (args, result.observation)
    assert host_file.read_text() == "host content\n"
    assert not Path("/escape.txt").exists() and not Path("/testbed").exists()
    assert_usable(sandbox)


def test_huge_file_through_editor(sandbox):
    text = ("0123456789abcdef" * 64 + "\n") * 20_000  # ~20 MiB
    started = time.monotonic()
    created = editor(sandbox, command="create", path="/testbed/huge.txt", file_text=text, timeout=120)
    elapsed = time.monotonic() - started
    assert created.exit_code == 0, created.observation[:500]
    assert len(created.observation) <= DEFAULT_OUTPUT_LIMIT + 2000
    assert bash(sandbox, "wc -c < huge.txt").observation == str(len(text))
    viewed = editor(sandbox, command="view", path="/testbed/huge.txt")
    assert len(viewed.observation) <= DEFAULT_OUTPUT_LIMIT + 2000
    assert elapsed < 60
    assert_usable(sandbox)


def test_non_utf8_and_control_output(sandbox):
    printf = "printf 'a\\xff\\xfe\\x00\\x1b[31mred\\x07\\r\\x08\\n'"
    result = bash(sandbox, f"{printf}; head -c 20000 /dev/urandom")
    result.observation.encode("utf-8")  # no lone surrogates: it can be stored and tokenized
    # Kept as printed except the ANSI colour code: observations are in the canonical form (no ANSI).
    assert result.observation.startswith("a\ufffd\ufffd\x00red\x07\r\x08\n")
    bash(sandbox, "head -c 4096 /dev/urandom > blob.bin; printf '\\xc3\\x28 bad\\n' > bad.py")
    for path in ("/testbed/blob.bin", "/testbed/bad.py"):
        viewed = editor(sandbox, command="view", path=path)
        viewed.observation.encode("utf-8")
    assert os.path.exists("/proc/self")  # the host is fine
    assert_usable(sandbox)
