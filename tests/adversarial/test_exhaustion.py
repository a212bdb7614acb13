"""Denial of service against the host: disk and inodes outside a command, huge diffs and files read
into host memory, files that block the reader, and input the harness chokes on.

Every attack here is bounded by the test itself (a writer stops after a fixed amount), so running
the suite against a harness with the hole costs a few hundred MB, never the machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import threading
import time
import tracemalloc

import pytest
from attacks import TEST_LIMITS, assert_usable, bash, editor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_containment import _disk_of

from swe_srl.actions import ActionParseError, parse_completion, parse_strict
from swe_srl.env import SweEnv
from swe_srl.sandbox import FileTooLarge, SandboxError, is_truncated_patch, make_sandbox


def _wait_for(probe, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.1)
    return False


def test_background_disk_writer_outlives_its_step(backend, tiny_task, cache_root):
    """A writer started in the background keeps filling the disk after its step returned."""
    disk = _disk_of(backend)
    reserve = shutil.disk_usage(disk).free - (64 << 20)  # crossed after ~64 MiB
    limits = dataclasses.replace(TEST_LIMITS, disk_reserve_bytes=reserve)
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=limits) as box:
        writer = (
            "for i in $(seq 100); do head -c 4000000 /dev/zero > /testbed/bg.$i; sleep 0.05; done; "
            "touch /testbed/bg.done"
        )
        started = bash(box, f"(setsid nohup sh -c '{writer}' >/dev/null 2>&1 &); echo started")
        assert started.observation == "started"
        # The writer needs ~6 s for its 400 MB; the reserve is crossed after ~1 s.
        assert _wait_for(lambda: shutil.disk_usage(disk).free < reserve, 20)
        time.sleep(2)  # stopped within a poll (and the kill's round trip) of crossing the reserve
        deficit = reserve - shutil.disk_usage(disk).free  # other writers on this machine add noise
        time.sleep(6)  # ...and it stays stopped: an unstopped writer would finish all 100 files
        note = bash(box, "ls /testbed | grep -c '^bg\\.'; ls /testbed/bg.done 2>/dev/null | wc -l")
        assert "free space fell below" in note.observation, note.observation
        count, done = note.observation.split()[:2]
        assert int(count) < 60 and done == "0"
        assert deficit < (128 << 20), deficit >> 20
        bash(box, "rm -f /testbed/bg.*")
        assert_usable(box)


def test_stepping_rearms_the_disk_reserve(backend, tiny_task, cache_root):
    """Every step re-armed the watch at the current free space: a background writer slower than the
    slack (16 MiB) per step was never stopped while the agent kept stepping."""
    disk = _disk_of(backend)
    reserve = shutil.disk_usage(disk).free - (48 << 20)  # crossed after ~48 MiB
    limits = dataclasses.replace(TEST_LIMITS, disk_reserve_bytes=reserve)
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=limits) as box:
        # 400 MB, far past the reserve even when other processes on the disk free some space meanwhile
        # (the reserve is relative to the free space measured above).
        writer = (
            "for i in $(seq 400); do head -c 1000000 /dev/zero > /testbed/bg.$i; sleep 0.05; done; "
            "touch /testbed/bg.done"
        )
        bash(box, f"(setsid nohup sh -c '{writer}' >/dev/null 2>&1 &); echo started")
        notes, deadline = "", time.monotonic() + 90  # the writer needs ~30 s for its 400 MB
        while "free space fell below" not in notes and time.monotonic() < deadline:
            notes += bash(box, "true").observation  # a step every ~0.1 s: ~1 MB written between two
            time.sleep(0.05)
        time.sleep(3)  # a writer still running would go on writing meanwhile
        assert "free space fell below" in notes
        listing = bash(box, "ls /testbed | grep -c '^bg\\.'; ls /testbed/bg.done 2>/dev/null | wc -l")
        count, done = listing.observation.split()[:2]
        assert int(count) < 400 and done == "0", (count, done)  # stopped mid-way, not forgiven
        bash(box, "rm -f /testbed/bg.*")
        assert_usable(box)


def test_fill_dev_tmpfs(sandbox):
    """/dev and /dev/shm were tmpfs mounts without a size: memory held until the sandbox dies, and
    without a memory cgroup (swe-srl run by an ordinary user) as much as the host has."""
    chunk = TEST_LIMITS.file_size_bytes // 2
    fill = f"for i in $(seq 8); do head -c {chunk} /dev/zero > $d/fill.$i 2>/dev/null || break; done"
    result = bash(
        sandbox, f"for d in /dev /dev/shm; do {fill}; done; cat /dev/fill.* /dev/shm/fill.* | wc -c"
    )
    stored = int(result.observation.split()[-1])
    assert stored <= 2 * TEST_LIMITS.tmpfs_bytes, stored >> 20  # Docker: 64 MiB each; local: /dev/shm only
    bash(sandbox, "rm -f /dev/fill.* /dev/shm/fill.*")
    assert bash(sandbox, "echo x > /dev/shm/small && cat /dev/shm/small").observation == "x"  # still usable
    assert bash(sandbox, "echo quiet > /dev/null; head -c 3 /dev/zero | wc -c").observation == "3"
    assert_usable(sandbox)


def test_inode_exhaustion(backend, tiny_task, cache_root):
    """Millions of empty files use no space but every inode: the reserve covers inodes too."""
    stat = os.statvfs(_disk_of(backend))
    if stat.f_files == 0:
        pytest.skip("this filesystem does not count inodes")
    reserve = stat.f_favail - 20_000  # crossed after ~20k files
    limits = dataclasses.replace(TEST_LIMITS, inode_reserve=reserve)
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=limits) as box:
        result = bash(box, "mkdir many && cd many && seq 60000 | xargs touch; echo finished", timeout=120)
        assert "finished" not in result.observation
        assert "inodes" in result.observation, result.observation[-500:]
        count = int(bash(box, "ls /testbed/many | wc -l").observation)
        assert count < 60000
        bash(box, "rm -rf /testbed/many", timeout=120)
        assert_usable(box)


def test_huge_diff_read_into_host_memory(sandbox):
    """Two large text files: the diff read by the host is capped and says so."""
    bash(
        sandbox,
        "for f in a b; do yes 'some text line of a big generated file' | head -c 40000000 > big.$f; done",
        timeout=120,
    )
    tracemalloc.start()
    try:
        patch = sandbox.diff()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (80 << 20), peak >> 20
    assert is_truncated_patch(patch)
    assert len(patch) < (12 << 20)
    bash(sandbox, "rm -f big.a big.b")
    assert not is_truncated_patch(sandbox.diff())


def test_huge_file_read_into_host_memory(sandbox):
    """A 60 MB log read by the host (the grader reads the test output this way) is refused, not loaded."""
    size = 60_000_000  # under the test limits' 64 MiB file-size limit
    bash(sandbox, f"head -c {size} /dev/zero > huge.log", timeout=120)
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLarge, match="larger than"):
            sandbox.read_file("/testbed/huge.log", max_bytes=8 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (24 << 20), peak >> 20
    assert len(sandbox.read_file("/testbed/huge.log", max_bytes=size)) == size
    bash(sandbox, "rm -f huge.log")


def test_fifo_renamed_over_a_file_the_host_reads(sandbox):
    """A FIFO where the host expects a regular file must not block the reader."""
    bash(sandbox, "mkfifo /testbed/out.fifo; mv /testbed/out.fifo /testbed/README.md")
    outcome: list[object] = []

    def read():
        try:
            outcome.append(sandbox.read_file("/testbed/README.md"))
        except SandboxError as err:
            outcome.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(15)
    if reader.is_alive():  # unblock the stuck reader before failing
        bash(sandbox, "echo x > /testbed/README.md &")
        reader.join(5)
        pytest.fail("read_file blocked on a FIFO")
    assert isinstance(outcome[0], SandboxError) and "regular file" in str(outcome[0])
    with pytest.raises(SandboxError, match="regular file"):
        sandbox.write_file("/testbed/README.md", "x")
    assert_usable(sandbox)


def test_lone_surrogate_in_action(backend, tiny_task, cache_root):
    """Text the agent sends that cannot be encoded becomes an observation, never an exception."""
    env = SweEnv(
        task=tiny_task, sandbox=lambda t: make_sandbox(backend, t, cache_root=cache_root), max_steps=10
    )
    try:
        env.reset()
        for reply in (
            "<function=bash>\n<parameter=command>echo \ud800 x</parameter>\n</function>",
            "<function=str_replace_editor>\n<parameter=command>create</parameter>\n"
            "<parameter=path>/testbed/s.py</parameter>\n<parameter=file_text>\udcff\ud83d</parameter>\n</function>",
            "<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
            "<parameter=path>/testbed/\ud800\x00</parameter>\n</function>",
            "<function=bash>\n<parameter=command>echo ok</parameter>\n</function>" + "\ud800",
        ):
            observation, _, _, _, info = env.step(reply)
            observation.encode("utf-8")  # an observation is always storable text
            assert info["exit_code"] != 0 or "ok" in observation, observation
        observation, *_ = env.step("<function=bash>\n<parameter=command>echo fine</parameter>\n</function>")
        assert observation == "fine"
    finally:
        env.close()


def _parse_seconds(parse, text: str) -> float:
    started = time.monotonic()
    with contextlib.suppress(ActionParseError):  # refusing the reply is fine; only the time matters
        parse(text)
    return time.monotonic() - started


@pytest.mark.parametrize("parse", [parse_completion, parse_strict])
def test_quadratic_action_parse(parse):
    """A 2.5 MB reply with many parameters took 28 s to parse; every reply format parses in linear time."""
    params = "".join(f"<parameter=p{i}>v</parameter>" for i in range(80_000))
    replies = {
        "parameters": "<think>x</think><function=bash>\n<parameter=command>ls</parameter>"
        + params
        + "\n</function>",
        "unclosed fences": "<think>x</think>" + "```bash\n" * 200_000,
        "nested json": '<think>x</think>{"name": "bash", "arguments": ' * 60_000,
        "json arrays": "<think>x</think>" + ('{"name": [' + "1," * 100) * 8_000,
    }
    for name, reply in replies.items():
        assert len(reply) > 1_500_000, name
        assert _parse_seconds(parse, reply) < 5, name


def test_oversized_action_is_an_observation(backend, tiny_task, cache_root):
    env = SweEnv(
        task=tiny_task, sandbox=lambda t: make_sandbox(backend, t, cache_root=cache_root), max_steps=10
    )
    try:
        env.reset()
        huge = "<function=bash>\n<parameter=command>echo " + "x" * 3_000_000 + "</parameter>\n</function>"
        started = time.monotonic()
        observation, _, terminated, _, info = env.step(huge)
        assert info["parse_error"] and not terminated
        assert "too long" in observation and time.monotonic() - started < 5
    finally:
        env.close()


_ODD = st.sampled_from(
    ["\ud800", "\udcff", "\ud83d", "\x00", "\x1b[2J", "\r", "'", '"', "$(", "`", "\\", "\n"]
)
_TEXT = st.lists(st.one_of(st.characters(), _ODD), max_size=30).map("".join)


@st.composite
def _replies(draw) -> str:
    """Model replies that reach every tool, with arbitrary text (lone surrogates, NUL...) in each field."""
    value = draw(_TEXT)
    call = draw(
        st.sampled_from(
            [
                "<function=bash>\n<parameter=command>echo {v}</parameter>\n</function>",
                "<function=str_replace_editor>\n<parameter=command>create</parameter>\n"
                "<parameter=path>/testbed/f{v}.txt</parameter>\n<parameter=file_text>{v}</parameter>\n</function>",
                "<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
                "<parameter=path>/testbed/{v}</parameter>\n</function>",
                "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n"
                "<parameter=path>/testbed/README.md</parameter>\n<parameter=old_str>tiny</parameter>\n"
                "<parameter=new_str>{v}</parameter>\n</function>",
                '{{"name": "bash", "arguments": {{"command": "printf %s {v!r}"}}}}',
                "```bash\nprintf '%s' {v!r}\n```",
                "{v}",
            ]
        )
    )
    return draw(_TEXT) + call.format(v=value)


def test_any_reply_is_an_observation(tiny_task, cache_root):
    """Whatever text the agent sends, step() returns an observation (storable as UTF-8); nothing raises."""
    env = SweEnv(
        task=tiny_task,
        sandbox=lambda t: make_sandbox("local", t, cache_root=cache_root),
        max_steps=10_000,
        step_timeout=10,
    )
    env.reset()

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(_replies())
    def step(reply: str) -> None:
        observation, _, terminated, _, info = env.step(reply)
        observation.encode("utf-8")
        info["thought"].encode("utf-8")
        if terminated:
            env.reset()

    try:
        step()
    finally:
        env.close()


def test_editor_history_fills_tmp(sandbox):
    """Every edit kept a full copy of the file for undo_edit, without end: /tmp would fill up."""
    bash(sandbox, "yes 0123456789abcdef0123456789abcdef | head -n 30000 > big.txt; echo marker-0 >> big.txt")
    path = "/testbed/big.txt"
    for i in range(40):
        edited = editor(
            sandbox, command="str_replace", path=path, old_str=f"marker-{i}", new_str=f"marker-{i + 1}"
        )
        assert edited.exit_code == 0, edited.observation[-300:]
    kept = int(bash(sandbox, "du -sk /tmp/.swe_srl | cut -f1").observation)
    assert kept < 34 * 1000, kept  # the last 32 versions (about 1 MB each), not 40
    for i in range(40, 8, -1):  # the last 32 edits can be taken back, one by one
        undone = editor(sandbox, command="undo_edit", path=path)
        assert undone.exit_code == 0 and bash(sandbox, "tail -n 1 big.txt").observation == f"marker-{i - 1}"
    assert "No edit history" in editor(sandbox, command="undo_edit", path=path).observation
