"""The Docker sandbox against a real engine, and parity with the local sandbox."""

from __future__ import annotations

import time

import pytest
from sandbox_cases import *  # noqa: F403 (the shared behaviour tests, listed in its __all__)
from sandbox_cases import PARITY_COMMANDS, make_tiny_task

from swe_srl.sandbox import Sandbox, SandboxError, make_sandbox
from swe_srl.sandbox.docker_backend import LABEL

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def tiny_task(tmp_path_factory):
    return make_tiny_task(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def sandbox(tiny_task, cache_root):
    box = make_sandbox("docker", tiny_task, cache_root=cache_root)
    yield box
    box.close()


def test_docker_is_the_protocol_with_limits_and_labels(sandbox):
    assert isinstance(sandbox, Sandbox) and sandbox.kind == "docker"
    attrs = sandbox.container.attrs
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert attrs["HostConfig"]["PidsLimit"] > 0 and attrs["HostConfig"]["Memory"] > 0
    assert attrs["Config"]["Labels"][LABEL] == "1"
    assert attrs["Config"]["Labels"]["swe-srl.instance"] == "tiny__calc-1"


def test_reset_starts_a_fresh_container(sandbox):
    """Root in the container can change anything in it, so a new episode gets a new container."""
    old = sandbox.container
    sandbox.run("echo dirty > README.md; touch new.py /usr/lib/planted /root/planted")
    sandbox.reset()
    assert sandbox.container.id != old.id
    state = sandbox.run("git status --porcelain; ls /usr/lib/planted /root/planted 2>/dev/null | wc -l")
    assert state.output == "0\n"
    assert sandbox.container.attrs["Config"]["Labels"][LABEL] == "1"
    sandbox.close()  # waits for the old container's removal
    assert not sandbox.client.containers.list(all=True, filters={"id": old.id})


def test_close_removes_the_container(sandbox):
    client, container_id = sandbox.client, sandbox.container.id
    sandbox.close()
    assert not client.containers.list(all=True, filters={"id": container_id})


def test_container_killed_from_outside_raises(sandbox):
    sandbox.container.kill()
    with pytest.raises(SandboxError, match="killed from outside"):
        for _ in range(3):  # the first call may still see the dying shell's end of stream
            sandbox.run("echo hi", timeout=5)


def test_same_commands_give_identical_observations(tiny_task, cache_root):
    observations = {}
    for kind in ("local", "docker"):
        with make_sandbox(kind, tiny_task, cache_root=cache_root) as box:
            results = [box.run(cmd, timeout=30) for cmd in PARITY_COMMANDS]
            observations[kind] = [(r.output, r.exit_code, r.timed_out) for r in results]
            observations[kind].append((box.diff(), 0, False))
    for cmd, local, docker in zip(
        [*PARITY_COMMANDS, "<diff>"], observations["local"], observations["docker"], strict=True
    ):
        assert local == docker, f"backends differ on {cmd!r}"
    assert observations["local"][4][0].endswith("1 failed in Ts\n")
    assert observations["local"][11][0] == "PASSED tests/test_ops.py::test_add\n"


def test_gc_removes_old_labelled_containers(tmp_path, cache_root):
    from swe_srl.sandbox.gc import gc_containers

    # A unique instance id: gc must not touch sandboxes of other runs sharing this engine.
    task = make_tiny_task(tmp_path, instance_id=f"gc-test-{time.time_ns()}")
    box = make_sandbox("docker", task, cache_root=cache_root)
    try:
        container_id = box.container.short_id
        assert gc_containers(3600, instance=task.instance_id) == []
        removed = gc_containers(0, instance=task.instance_id, now=time.time() + 5)
        assert [r.name for r in removed] == [f"{container_id} ({task.instance_id})"]
        assert sandbox_gone(box)
    finally:
        box.close()


def sandbox_gone(box) -> bool:
    return not box.client.containers.list(all=True, filters={"id": box.container.id})
