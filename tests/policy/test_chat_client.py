"""The generation client: explicit sampling per dialect, replies, preflight faults, identical prompts."""

from __future__ import annotations

import json
import pickle
import time

import pytest

from swe_srl.context import TokenCounter, build_messages
from swe_srl.eval.oracle import oracle_prompt
from swe_srl.policy import ModelServerError, PolicyError, PolicyOptions, open_policy_source
from swe_srl.policy.chat import ChatPolicy, ContextWindow, ContextWindowError, Reply
from swe_srl.policy.client import (
    IN_FLIGHT,
    ChatClient,
    Sampling,
    default_in_flight,
    dialect_of,
    reply_text,
    request_body,
)
from swe_srl.records import Action, Step
from swe_srl.tasks import load_tasks

MESSAGES = [{"role": "user", "content": "hi"}]


def test_every_request_carries_every_sampling_parameter_in_the_servers_dialect():
    sampling = Sampling(max_tokens=64, temperature=0.7, top_p=0.9, seed=5)
    vllm = request_body("m", MESSAGES, sampling, "vllm")
    assert (vllm["top_k"], vllm["min_p"], vllm["repetition_penalty"], vllm["seed"]) == (-1, 0.0, 1.0, 5)
    assert (vllm["temperature"], vllm["top_p"], vllm["max_tokens"]) == (0.7, 0.9, 64)
    eos = {"eos_token_id": 2, "pad_token_id": 0}
    config = json.loads(request_body("m", MESSAGES, sampling, "transformers", eos=eos)["generation_config"])
    assert config == {
        "max_new_tokens": 64, "do_sample": True, "repetition_penalty": 1.0, "temperature": 0.7,
        "top_p": 0.9, "top_k": 0, "eos_token_id": 2, "pad_token_id": 0,
    }  # fmt: skip
    plain = request_body("m", MESSAGES, sampling, "transformers")  # EOS unknown: no full config
    assert plain["frequency_penalty"] == 0.0 and "generation_config" not in plain
    generic = request_body("m", MESSAGES, sampling, "openai", max_tokens=7)
    assert generic["max_tokens"] == 7 and "top_k" not in generic and "repetition_penalty" not in generic
    penalised = request_body("m", MESSAGES, Sampling(top_k=20, repetition_penalty=1.05), "openai")
    assert (penalised["top_k"], penalised["repetition_penalty"]) == (20, 1.05)


def test_replies_keep_the_monologue_a_server_parsed_out_and_native_tool_calls():
    message = {"content": "\n<function=submit>\n</function>", "reasoning_content": "ok"}
    split = {"choices": [{"message": message}]}
    assert reply_text(split) == "<think>ok</think>\n<function=submit>\n</function>"
    call = {"type": "function", "function": {"name": "submit", "arguments": "{}"}}
    assert (
        reply_text({"choices": [{"message": {"content": "", "tool_calls": [call]}}]})
        .strip()
        .startswith("<function=submit>")
    )
    with pytest.raises(PolicyError):
        reply_text({"error": "overloaded"})


def test_dialects_are_read_from_the_model_listing():
    assert dialect_of({"id": "m", "owned_by": "vllm", "max_model_len": 4096}) == "vllm"
    assert dialect_of({"id": "/m", "owned_by": "local", "status": {"value": "loaded"}}) == "transformers"
    assert dialect_of({"id": "gpt", "owned_by": "someone"}) == "openai"


def test_a_client_and_a_reply_cross_process_boundaries():
    client = pickle.loads(pickle.dumps(ChatClient("http://h:1/v1/chat/completions", "m", max_concurrency=3)))
    assert client.endpoint == "http://h:1/v1/chat/completions" and client.server is None
    reply = pickle.loads(pickle.dumps(Reply("text", {"model": {"prompt_tokens": 3}})))
    assert reply == "text" and reply.metadata == {"model": {"prompt_tokens": 3}}


def test_a_prompt_that_cannot_fit_ends_the_episode_with_a_reason(tiny_dir):
    counter = TokenCounter.from_path(tiny_dir)
    fixed = counter(build_messages("issue", []))
    policy = ChatPolicy("x", backend=None, max_tokens=100, window=ContextWindow(fixed + 40, counter))
    _, budget, record = policy.fit(build_messages("issue", []))
    assert budget == 40 and record["reply_tokens"] == 40 and not record["fits"]  # the reply shrinks
    tight = ChatPolicy("x", backend=None, max_tokens=100, window=ContextWindow(fixed + 8, counter))
    with pytest.raises(ContextWindowError, match="context window"):
        tight.fit(build_messages("issue", []))


def test_a_bad_endpoint_fails_the_preflight_in_one_line():
    start = time.monotonic()
    with pytest.raises(ModelServerError) as caught:
        open_policy_source("openai:m@http://127.0.0.1:9/v1").preflight()
    assert "unreachable" in str(caught.value) and "\n" not in str(caught.value)
    assert time.monotonic() - start < 10


def test_a_server_that_never_answers_fails_the_preflight_in_seconds(monkeypatch):
    """A listener that accepts and stays silent (a hung server) is not waited on for the run's timeout."""
    import socket

    from swe_srl.policy import client as client_module

    monkeypatch.setattr(client_module, "PREFLIGHT_TIMEOUT", 1.0)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(ModelServerError) as caught:
            open_policy_source(f"openai:m@http://127.0.0.1:{port}/v1").preflight()  # 600 s per request
    assert "unreachable" in str(caught.value) and "timed out" in str(caught.value)
    assert "\n" not in str(caught.value) and time.monotonic() - start < 10


@pytest.mark.slow
def test_a_model_the_server_does_not_serve_fails_the_preflight(hf_source):
    url = hf_source.server.base_url
    with pytest.raises(PolicyError, match="not 'other-model'"):
        open_policy_source(f"openai:other-model@{url}").preflight()


@pytest.mark.slow
def test_a_rejected_request_is_not_retried(hf_source):
    client = ChatClient(hf_source.server.base_url, hf_source.server.model_name, retries=3, backoff=5.0)
    start = time.monotonic()
    with pytest.raises(PolicyError, match="422") as caught:
        client._with_retries(lambda: client._request(client.endpoint, {"model": "x", "nonsense": 1}))
    assert not isinstance(caught.value, ModelServerError) and time.monotonic() - start < 5


class Capture:
    """Records the messages a backend is asked (instrumentation around a real backend)."""

    def __init__(self, backend):
        self.backend, self.seen = backend, []

    def complete(self, messages, max_tokens=None):
        self.seen.append(messages)
        return self.backend.complete(messages, max_tokens)


@pytest.mark.slow
def test_every_backend_is_asked_the_same_messages_in_both_settings(hf_source, lively_tiny_dir):
    task = load_tasks("sample")[0]
    history = [Step("", Action("bash", {"command": "ls /testbed"}), "durata\ntests")]
    url, name = hf_source.server.base_url, hf_source.server.model_name
    in_process = open_policy_source(f"hf:{lively_tiny_dir}", PolicyOptions(max_tokens=8, in_process=True))
    external = open_policy_source(f"openai:{name}@{url}", PolicyOptions(max_tokens=8))
    asked = []
    for source in (hf_source, in_process, external):
        policy = source.for_task(task)
        policy.backend = capture = Capture(policy.backend)
        policy.act(task.problem_statement, history)
        policy.oracle_answer(oracle_prompt(task))
        asked.append(capture.seen)
    external.close()
    assert asked[0] == asked[1] == asked[2]
    assert asked[0][1] == [{"role": "user", "content": oracle_prompt(task)}]


@pytest.mark.slow
def test_a_source_copied_to_another_process_uses_the_same_server_and_leaves_it_running(hf_source):
    task = load_tasks("sample")[0]
    copy = pickle.loads(pickle.dumps(hf_source))  # what a Ray worker receives
    assert copy.server is None and copy.window is not None
    assert copy.for_task(task).act(task.problem_statement, []).metadata["model"]["completion_tokens"] > 0
    copy.close()
    assert hf_source.server.pid is not None  # only the process that started the server stops it


def test_a_managed_transformers_server_on_a_gpu_takes_more_requests_in_flight():
    """On a CPU more than 2 requests slow transformers serve down; on a GPU they batch (H200: 3.5x at 8)."""
    assert default_in_flight("transformers", server_on_gpu=False) == IN_FLIGHT["transformers"] == 2
    assert default_in_flight("transformers", server_on_gpu=True) >= 16
    assert default_in_flight("vllm", server_on_gpu=True) == IN_FLIGHT["vllm"]


@pytest.mark.slow
def test_the_managed_servers_client_takes_the_cap_of_where_the_server_runs(hf_source):
    from swe_srl.policy.served import cuda_visible

    expected = default_in_flight("transformers", server_on_gpu=cuda_visible())
    assert hf_source.backend.max_concurrency == expected == (64 if cuda_visible() else 2)


@pytest.mark.slow
def test_requests_in_flight_are_capped_and_each_has_a_timeout(hf_source):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Lock

    url, name = hf_source.server.base_url, hf_source.server.model_name
    client = ChatClient(url, name, Sampling(max_tokens=8), dialect="transformers")  # its default cap
    request, lock, now, peak = client._request, Lock(), [0], [0]

    def counted(*args, **kwargs):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            return request(*args, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    client._request = counted
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.complete(MESSAGES), range(16)))
    assert peak[0] == IN_FLIGHT["transformers"] < 8
    hasty = ChatClient(url, name, Sampling(max_tokens=24), timeout=0.005, retries=1, backoff=0.01)
    with pytest.raises(ModelServerError, match="timed out"):
        hasty.complete(MESSAGES)
