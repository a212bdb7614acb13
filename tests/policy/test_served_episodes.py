"""Episodes against one real ``transformers serve`` (the tiny model): concurrency, greedy equality, context.

The same client code talks to ``vllm serve`` on GPU nodes; only the server process differs.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from swe_srl.context import TokenCounter, build_messages
from swe_srl.env import SweEnv
from swe_srl.episode import run_episode
from swe_srl.policy.chat import ContextWindow, LockedCounter
from swe_srl.records import Action, Step
from swe_srl.tasks import load_tasks

pytestmark = pytest.mark.slow
MAX_TOKENS = 24  # tests/policy/conftest.py: the hf_source fixture's reply budget


class InFlight:
    """Wraps a backend to count the requests in flight at once (instrumentation, not a double)."""

    def __init__(self, backend):
        self.backend, self.now, self.peak, self.calls = backend, 0, 0, 0
        self._lock = threading.Lock()

    def complete(self, messages, max_tokens=None):
        with self._lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
        try:
            return self.backend.complete(messages, max_tokens)
        finally:
            with self._lock:
                self.now -= 1


def run_tasks(source, tasks, workers, max_steps=3, meter=None, window=None):
    def one(task):
        policy = source.for_task(task)
        policy.backend = meter or policy.backend
        policy.window = window or policy.window
        env = SweEnv(task=task, sandbox="local", max_steps=max_steps)
        try:
            return run_episode(env, policy, task)
        finally:
            env.close()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, tasks))


def test_eight_concurrent_episodes_share_one_server_and_match_the_sequential_run(hf_source):
    tasks = load_tasks("bundled")[:8]
    server_pid = hf_source.server.pid
    sequential = run_tasks(hf_source, tasks, workers=1)
    meter = InFlight(hf_source.backend)
    concurrent = run_tasks(hf_source, tasks, workers=8, meter=meter)
    assert meter.peak >= 4, f"at most {meter.peak} requests were in flight together"
    assert meter.calls == sum(len(t.steps) for t in concurrent) == 8 * 3
    assert hf_source.server.pid == server_pid and hf_source.server.restarts == 0
    for one, other in zip(sequential, concurrent, strict=True):
        assert [s.raw_action for s in one.steps] == [s.raw_action for s in other.steps], one.instance_id
    replies = {s.raw_action for t in concurrent for s in t.steps}
    assert len(replies) > 1  # different prompts got different greedy replies: the comparison has teeth
    step = concurrent[0].steps[-1]
    assert step.metadata["model"]["prompt_tokens"] > 0
    assert 0 < step.metadata["model"]["completion_tokens"] <= MAX_TOKENS
    assert step.metadata["context"]["fits"] is True
    policy = hf_source.for_task(tasks[0])
    policy.act(tasks[0].problem_statement, [])
    usage = policy.usage()
    assert usage["requests"] == 1 and 0 < usage["completion_tokens"] <= MAX_TOKENS


def test_an_over_long_prompt_is_trimmed_before_the_request_and_recorded(hf_source, lively_tiny_dir):
    task = load_tasks("bundled")[0]
    counter = TokenCounter.from_path(lively_tiny_dir)
    fixed = counter(build_messages(task.problem_statement, []))
    window = ContextWindow(fixed + MAX_TOKENS + 300, LockedCounter(counter))
    tests_dir = Path(task.repo_dir) / "tests"
    listing = "\n".join(sorted(str(p) for p in Path(task.repo_dir).rglob("*.py"))) * 20
    long_view = "\n".join(p.read_text() for p in sorted(tests_dir.rglob("*.py")))[:30000]
    history = [
        Step("", Action("bash", {"command": "find /testbed -name '*.py'"}), listing),
        Step("", Action("str_replace_editor", {"command": "view", "path": "/testbed/tests"}), long_view),
    ]
    policy = hf_source.for_task(task)
    policy.window = window
    reply = policy.act(task.problem_statement, history)
    context, model = reply.metadata["context"], reply.metadata["model"]
    assert context["tokens_before"] > window.limit - MAX_TOKENS >= context["tokens"]
    assert context["observations_trimmed"] + context["rounds_dropped"] > 0 and context["fits"]
    assert model["prompt_tokens"] == context["tokens"]  # the server counts what the client counted
    assert model["prompt_tokens"] + model["completion_tokens"] <= window.limit
