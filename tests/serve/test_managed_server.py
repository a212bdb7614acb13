"""A real ``transformers serve`` under supervision: ``swe-srl serve``, crashes, restarts, clean stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from swe_srl.env import SweEnv
from swe_srl.episode import run_episode
from swe_srl.policy import ModelServerError, PolicyOptions, open_policy_source
from swe_srl.policy.vllm import VllmUnavailableError
from swe_srl.serve.process import ManagedServer, SupervisorConfig
from swe_srl.serve.run import server_spec
from swe_srl.tasks import load_tasks

READY = re.compile(r"serving (\S+) at (\S+) \(engine transformers, pid (\d+)\)")


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as status:
                if "State:\tZ" in status.read():
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


def _serve_cli(model, log) -> tuple[subprocess.Popen, str, str, int]:
    """``swe-srl serve`` in a child process; (process, model name, URL, server pid) once it is ready."""
    command = [sys.executable, "-m", "swe_srl.cli", "serve", str(model), "--engine", "transformers"]
    command += ["--port", "0", "--log", str(log), "--startup-timeout", "300"]
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in cli.stdout:
        if match := READY.search(line):
            return cli, match.group(1), match.group(2), int(match.group(3))
    raise AssertionError(f"swe-srl serve exited with {cli.wait()} before it was ready: {log.read_text()}")


@pytest.mark.slow
def test_serve_stops_cleanly_on_sigterm_and_its_clients_get_a_model_server_error(tiny_dir, tmp_path):
    cli, name, url, server_pid = _serve_cli(tiny_dir, tmp_path / "serve.log")
    try:
        source = open_policy_source(f"openai:{name}@{url}", PolicyOptions(max_tokens=4, retries=1))
        source.preflight()
        policy = source.for_task(load_tasks("sample")[0])
        assert policy.act("an issue", []).metadata["model"]["completion_tokens"] <= 4
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=60) == 0
        assert f"stopped {name}" in cli.stdout.read()  # says so, rather than exiting in silence
        assert _gone(server_pid, within=5)
        with pytest.raises(ModelServerError, match="after 2 attempts"):
            policy.act("an issue", [])  # an external server that died: an infrastructure error
    finally:
        cli.kill()
    assert "Shutting down" in (tmp_path / "serve.log").read_text()


@pytest.mark.slow
def test_the_server_dies_with_the_process_that_started_it(tiny_dir, tmp_path):
    cli, _, _, server_pid = _serve_cli(tiny_dir, tmp_path / "serve.log")
    cli.kill()  # SIGKILL: no cleanup code runs in swe-srl serve
    cli.wait()
    assert _gone(server_pid, within=30)


class FirstReply:
    """Sets an event after the first reply (instrumentation around the real client)."""

    def __init__(self, backend):
        self.backend, self.event = backend, threading.Event()

    def complete(self, messages, max_tokens=None):
        completion = self.backend.complete(messages, max_tokens)
        self.event.set()
        return completion


@pytest.mark.slow
def test_a_managed_server_killed_mid_run_is_restarted_and_every_episode_finishes(tiny_dir, tmp_path):
    log = str(tmp_path / "server.log")
    options = PolicyOptions(max_tokens=8, server_log=log, request_timeout=300, cpu_threads=1)
    tasks = load_tasks("bundled")[:4]
    with open_policy_source(f"hf:{tiny_dir}", options) as source:
        source.preflight()
        first = FirstReply(source.backend)

        def episode(task):
            policy = source.for_task(task)
            policy.backend = first
            env = SweEnv(task=task, sandbox="local", max_steps=4)
            try:
                return run_episode(env, policy, task)
            finally:
                env.close()

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(episode, task) for task in tasks]
            assert first.event.wait(120)
            os.kill(source.server.pid, signal.SIGKILL)
            trajectories = [future.result(timeout=600) for future in futures]
        assert source.server.restarts == 1
    assert [len(t.steps) for t in trajectories] == [4, 4, 4, 4]
    assert all(s.metadata["model"]["completion_tokens"] for t in trajectories for s in t.steps)
    assert "restart 1:" in (tmp_path / "server.log").read_text()


def test_a_server_that_cannot_start_fails_in_one_line_naming_its_log(tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    spec = server_spec(str(empty), engine="transformers")
    server = ManagedServer(spec, tmp_path / "server.log", SupervisorConfig(startup_timeout=120))
    with pytest.raises(ModelServerError) as caught:
        server.start()
    message = str(caught.value)
    assert "exited with code" in message and str(tmp_path / "server.log") in message and "\n" not in message
    assert server.pid is None


def test_vllm_without_vllm_or_a_gpu_fails_the_preflight_clearly(tiny_dir):
    import importlib.util

    import torch

    if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available():
        pytest.skip("vLLM and a GPU are present: the clear-error path does not apply")
    with pytest.raises(VllmUnavailableError, match=r"vLLM and a CUDA GPU|needs a CUDA GPU"):
        open_policy_source(f"vllm:{tiny_dir}").preflight()
