"""Behaviour every sandbox backend must show; imported by test_sandbox_local and test_sandbox_docker.

Each importing module provides a ``sandbox`` fixture (a fresh sandbox on the tiny task below).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from swe_srl.records import Task
from swe_srl.sandbox import TRUNCATION_MARKER, SandboxError
from swe_srl.sandbox.shell import GRACE_SECONDS

# The behaviour both backends share: each backend's test file star-imports exactly these tests and
# supplies the `sandbox` fixture they take.
__all__ = [
    "test_background_process_does_not_hang_the_step",
    "test_binary_output_is_decoded_with_replacement",
    "test_close_is_idempotent",
    "test_commands_with_quotes_heredocs_and_stdin",
    "test_host_environment_is_not_visible",
    "test_huge_output_is_truncated_with_marker",
    "test_kill_processes_stops_every_process",
    "test_no_network_to_host_server",
    "test_paths_outside_testbed_are_refused",
    "test_read_write_diff_and_reset",
    "test_run_exit_codes_and_merged_stderr",
    "test_same_size_edit_in_the_second_the_index_was_written_is_diffed",
    "test_shell_killed_from_inside_is_restarted",
    "test_state_persists_between_commands",
    "test_timeout_kills_and_sandbox_stays_usable",
]

SETUP_PATCH = """--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a + b
+    return a - b
"""

# One scripted session whose observations must be byte-identical on both backends.
PARITY_COMMANDS = [
    "pwd",
    "cat calc/ops.py",
    "git status",
    "git log --format='%H %an %ae %s'",
    # Durations vary between runs, so they are masked; everything else must match byte for byte.
    "python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tail -n 3 | sed -E 's/ in [0-9.]+s/ in Ts/'",
    "cd calc && export PARITY=1 && ls",
    "pwd; echo $PARITY; env | sort",
    "echo to-stderr >&2; exit 7",
    "printf 'no newline'",
    "printf '\\xff\\xfe bad \\x80 bytes\\n'",
    "sed -i 's/a - b/a + b/' ops.py && git diff",
    "cd /testbed && python3 -m pytest -rA -p no:cacheprovider tests 2>&1 | grep -E '^(PASSED|FAILED)'",
    "python3 -c 'import sys; print(sys.version_info[:3])'; git --version; python3 -m pytest --version 2>&1",
    "for i in $(seq 1 5); do echo line $i; done | head -n 3",
    "false",
]


def make_tiny_task(root: Path, instance_id: str = "tiny__calc-1") -> Task:
    """A plain source tree (how bundled suites store libraries) plus a bug-introducing setup patch."""
    lib = root / "calc-lib"
    (lib / "calc").mkdir(parents=True)
    (lib / "tests").mkdir()
    (lib / "calc" / "__init__.py").write_text("")
    (lib / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    (lib / "tests" / "test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    (lib / "README.md").write_text("tiny calculator\n")
    return Task(
        instance_id=instance_id,
        repo="tiny/calc",
        base_commit="",
        problem_statement="add() subtracts",
        repo_dir=str(lib),
        setup_patch=SETUP_PATCH,
    )


def test_run_exit_codes_and_merged_stderr(sandbox):
    ok = sandbox.run("echo out; echo err >&2")
    assert (ok.output, ok.exit_code, ok.timed_out) == ("out\nerr\n", 0, False)
    assert sandbox.run("exit 3").exit_code == 3
    assert sandbox.run("false").exit_code == 1
    assert sandbox.run("cat calc/ops.py").output == "def add(a, b):\n    return a - b\n"


def test_state_persists_between_commands(sandbox):
    sandbox.run("cd calc && export GREETING='hello world'")
    assert sandbox.run("pwd; echo $GREETING").output == "/testbed/calc\nhello world\n"
    sandbox.run("unset GREETING; cd ..")
    assert sandbox.run("pwd; echo [$GREETING]").output == "/testbed\n[]\n"


def test_timeout_kills_and_sandbox_stays_usable(sandbox):
    started = time.monotonic()
    result = sandbox.run("echo before; sleep 1000", timeout=2)
    # Killed by the shell at its timeout, well before the host would presume the shell hung.
    assert time.monotonic() - started < 2 + GRACE_SECONDS - 1
    assert result.timed_out and result.exit_code == 124
    assert result.output == "before\n"
    assert sandbox.run("echo after").output == "after\n"
    # Nothing of the killed command survives in the sandbox.
    processes = sandbox.run("cat /proc/[0-9]*/cmdline | tr '\\0' ' '").output  # no `ps` in minimal images
    assert "sleep 7" in sandbox.run("sleep 7 & sleep 0.5; cat /proc/[0-9]*/cmdline | tr '\\0' ' '").output
    assert "sleep 1000" not in processes


def test_background_process_does_not_hang_the_step(sandbox):
    started = time.monotonic()
    result = sandbox.run("sleep 30 & echo started", timeout=20)
    assert time.monotonic() - started < 10  # returned at once, not at the timeout
    assert result.output == "started\n" and result.exit_code == 0


def test_huge_output_is_truncated_with_marker(sandbox):
    result = sandbox.run("yes 0123456789 | head -c 3000000")
    assert result.truncated and result.exit_code == 0
    limit = len(result.output) - len(TRUNCATION_MARKER.format(dropped=3000000 - 100_000))
    assert limit == 100_000
    assert result.output.endswith(TRUNCATION_MARKER.format(dropped=3000000 - 100_000))


def test_binary_output_is_decoded_with_replacement(sandbox):
    result = sandbox.run("printf 'a\\xffb\\x00c\\n'")
    assert result.output == "a\ufffdb\x00c\n"


def test_host_environment_is_not_visible(sandbox, monkeypatch):
    monkeypatch.setenv("SWE_SRL_HOST_SECRET", "leak")
    env = sandbox.run("env").output
    assert "SWE_SRL_HOST_SECRET" not in env and "leak" not in env
    assert "HOME=/root\n" in env and "LANG=C.UTF-8\n" in env


def test_no_network_to_host_server(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[object] = []
    thread = threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True)
    thread.start()
    try:
        script = (
            f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
        )
        probe = f'python3 -c "{script}"'
        result = sandbox.run(probe, timeout=10)
        assert "connected" not in result.output and result.exit_code != 0
    finally:
        server.close()
        thread.join(timeout=3)
    assert accepted == [None]


def _accept(server: socket.socket):
    server.settimeout(3)
    try:
        return server.accept()
    except OSError:
        return None


def test_read_write_diff_and_reset(sandbox):
    assert sandbox.read_file("/testbed/calc/ops.py") == b"def add(a, b):\n    return a - b\n"
    assert sandbox.read_file("README.md") == b"tiny calculator\n"
    sandbox.write_file("/testbed/calc/ops.py", "def add(a, b):\n    return a + b\n")
    sandbox.write_file("/testbed/new/dir/notes.txt", b"new file\n")
    assert sandbox.run("cat new/dir/notes.txt").output == "new file\n"
    diff = sandbox.diff()
    assert "-    return a - b\n+    return a + b\n" in diff
    assert "+++ b/new/dir/notes.txt\n@@ -0,0 +1 @@\n+new file\n" in diff
    sandbox.run("rm README.md; echo junk > untracked.txt; mkdir -p build && touch build/x")
    sandbox.run("cd calc; export DIRTY=1; : > ../.git/index.lock")  # what a killed `git add` leaves
    sandbox.reset()
    assert sandbox.diff() == ""
    assert sandbox.run("git status --porcelain --ignored; ls").output == "README.md\ncalc\ntests\n"
    assert sandbox.run("pwd; echo [$DIRTY]").output == "/testbed\n[]\n"
    assert sandbox.read_file("calc/ops.py") == b"def add(a, b):\n    return a - b\n"


def test_paths_outside_testbed_are_refused(sandbox):
    for bad in ("/etc/passwd", "/testbed/../etc/passwd", "../x"):
        with pytest.raises(SandboxError):
            sandbox.read_file(bad)
    sandbox.run("ln -s /etc/hostname link-out")
    with pytest.raises(SandboxError):
        sandbox.read_file("/testbed/link-out")
    with pytest.raises(SandboxError):
        sandbox.write_file("/testbed/link-out", "x")
    sandbox.run("ln -s /testbed/calc/ops.py link-in")
    assert sandbox.read_file("link-in") == sandbox.read_file("calc/ops.py")


def test_close_is_idempotent(sandbox):
    sandbox.close()
    sandbox.close()
    with pytest.raises(SandboxError):
        sandbox.run("true")


def test_shell_killed_from_inside_is_restarted(sandbox):
    result = sandbox.run("kill -KILL $$; sleep 5", timeout=10)  # $$ is the sandbox's shell
    assert result.exit_code != 0
    assert sandbox.run("echo back; pwd").output == "back\n/testbed\n"


def test_commands_with_quotes_heredocs_and_stdin(sandbox):
    script = "cat > /tmp/h.txt <<'EOF'\nit's \"quoted\" $HOME `x` ünïcode\nEOF\ncat /tmp/h.txt"
    assert sandbox.run(script).output == 'it\'s "quoted" $HOME `x` ünïcode\n'
    started = time.monotonic()
    assert sandbox.run("cat; read line; echo done", timeout=20).output == "done\n"  # stdin is empty
    assert time.monotonic() - started < 10  # did not wait for input until the timeout
    assert (
        sandbox.run("echo '__SWE_SRL_DONE_0000__ 0 0'; echo next").output
        == "__SWE_SRL_DONE_0000__ 0 0\nnext\n"
    )


def test_kill_processes_stops_every_process(sandbox):
    """After kill_processes() nothing in the sandbox writes any more (the grader reads results after it)."""
    sandbox.run("export KEPT=1; (setsid sh -c 'while :; do echo x >> /testbed/ticks; done' &) ; sleep 0.3")
    sandbox.kill_processes()
    size = len(sandbox.read_file("ticks"))
    time.sleep(0.5)
    assert len(sandbox.read_file("ticks")) == size > 0
    assert sandbox.run("echo [$KEPT]; pwd").output == "[]\n/testbed\n"  # a fresh shell
    assert sandbox.read_file("ticks")[:2] == b"x\n"  # the workspace is untouched


def test_same_size_edit_in_the_second_the_index_was_written_is_diffed(sandbox):
    """git trusts a file whose size, inode and times (to the second) match its index entry unless the
    file is not older than the index file (racy git). The diff works on a copy of the index: a copy
    with a newer mtime made an in-place, same-size fix, written in the second the file and the index
    last were, invisible (an empty patch for a correct fix)."""
    wrote_index_then_edited = (
        "python3 -c 'import time; time.sleep(1 - time.time() % 1)'; "  # at the start of a second
        "touch calc/ops.py && git read-tree HEAD && git update-index -q --refresh; "  # file and index
        "printf 'def add(a, b):\\n    return a + b\\n' > calc/ops.py; "  # same size, same inode
        "sleep 1.1"  # the diff runs in a later second
    )
    assert sandbox.run(wrote_index_then_edited).exit_code == 0
    assert sandbox.run("cat calc/ops.py").output == "def add(a, b):\n    return a + b\n"
    assert "+    return a + b" in sandbox.diff()
