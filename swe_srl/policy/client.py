"""One generation client for every model-backed policy: the OpenAI chat API over plain HTTP.

``openai:MODEL@URL`` talks to any server; ``hf:PATH`` and ``vllm:PATH`` talk through the same
:class:`ChatClient` to the one server their run started (``swe_srl.serve``). Every request carries
every sampling parameter (:class:`Sampling`), so a served model's ``generation_config.json`` (say a
repetition penalty of 1.05) cannot change results behind the caller's back; how each is spelled
depends on the server's dialect (:func:`request_body`):

- ``vllm``: OpenAI fields plus vLLM's ``top_k``, ``min_p``, ``repetition_penalty``;
- ``transformers`` (``transformers serve``): OpenAI fields plus a full ``generation_config``
  (its only way to set ``top_k`` and ``repetition_penalty``); without the model's EOS ids at hand,
  ``frequency_penalty`` 0, which it maps to ``repetition_penalty`` 1;
- ``openai`` (anything else): OpenAI fields only; ``top_k`` / ``repetition_penalty`` are added only
  when set to a non-neutral value (servers that do not know them then refuse at the preflight probe).

Failures: a refused connection, a timeout, an HTTP 5xx/429 or a cut response is retried
``retries`` times (for a managed server, after it is back up; else with exponential backoff), then
raised as :class:`~swe_srl.policy.errors.ModelServerError`; an HTTP 4xx is the caller's mistake
(:class:`~swe_srl.policy.errors.PolicyError`, not retried). At most ``max_concurrency`` requests are in
flight per client, whatever the number of threads calling it; unset, it depends on the dialect
(:data:`IN_FLIGHT`).
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from swe_srl.actions import action_from_tool_call, render_action
from swe_srl.policy.errors import ModelServerError, PolicyError

DIALECTS = ("openai", "vllm", "transformers")
# Requests in flight per client unless set. transformers serve's continuous batching on a CPU packs
# the running sequences into one attention call with a block mask (no flash kernel there), so a
# request's prefill attends over the keys of every sequence beside it and costs more the more run at
# once. Measured on 2 cores with the tiny model and episodes' 2.5k-token prompts (bench_serve.py):
# 2 in flight gave about 15% more episodes/hour than 4 at 4, 8 and 16 episodes, and 1 no more than 2;
# more episodes than that queue in the client while their sandbox work overlaps. On a GPU its
# attention reads each sequence's own pages: on one H200 with the tiny model, 8 requests in flight
# gave 3.5x the throughput of one and 16 gave 3.7x, where a cap of 4 held them at 2.6x / 2.8x.
IN_FLIGHT = {"openai": 64, "vllm": 256, "transformers": 2}
IN_FLIGHT_TRANSFORMERS_GPU = 64


def default_in_flight(dialect: str, *, server_on_gpu: bool) -> int:
    """Requests in flight per client when the run does not say (a managed server's device known)."""
    if dialect == "transformers" and server_on_gpu:
        return IN_FLIGHT_TRANSFORMERS_GPU
    return IN_FLIGHT[dialect]


TRANSIENT_HTTP = (408, 429)
# The preflight's requests wait this long, not a generation's timeout: a server that accepts the
# connection and never answers fails the run's check in seconds rather than after retried 10 minutes.
PREFLIGHT_TIMEOUT = 60.0
PROBE = [{"role": "user", "content": "Reply with one word."}]


@dataclass(frozen=True)
class Sampling:
    """The sampling parameters of every request (``top_k`` 0: no cut; ``seed`` None: none sent)."""

    max_tokens: int = 2048
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    """One generated reply and what it cost."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class ServerInfo:
    """What the preflight learned: the models served, the dialect, the context window if told."""

    models: tuple[str, ...]
    dialect: str
    max_model_len: int | None = None


class ServerHandle(Protocol):
    """A server this process manages: requests wait for it to come back after a crash."""

    def wait_ready(self, timeout: float) -> bool: ...


def _transformers_config(sampling: Sampling, max_tokens: int, eos: dict[str, Any]) -> str:
    config: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": sampling.temperature > 0}
    config["repetition_penalty"] = sampling.repetition_penalty
    if sampling.temperature > 0:
        config.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
    return json.dumps({**config, **eos})


def request_body(
    model: str,
    messages: list[dict[str, str]],
    sampling: Sampling,
    dialect: str = "openai",
    *,
    max_tokens: int | None = None,
    eos: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The chat-completions request for ``messages`` in ``dialect`` (see the module docstring).

    ``eos``: the model's special token ids (``eos_token_id``, ``pad_token_id``) when known, which a
    ``transformers serve`` generation config must carry (it replaces the model's whole config).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; dialects: {', '.join(DIALECTS)}")
    tokens = max_tokens or sampling.max_tokens
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "stream": False,
    }
    if sampling.seed is not None:
        body["seed"] = sampling.seed
    if dialect == "vllm":
        body.update(top_k=sampling.top_k or -1, min_p=0.0, repetition_penalty=sampling.repetition_penalty)
        body.update(frequency_penalty=0.0, presence_penalty=0.0)
    elif dialect == "transformers" and eos:
        body["generation_config"] = _transformers_config(sampling, tokens, eos)
    elif dialect == "transformers":
        body["frequency_penalty"] = sampling.repetition_penalty - 1.0  # its repetition_penalty is 1 + this
    else:
        body.update(frequency_penalty=0.0, presence_penalty=0.0)
        if sampling.top_k:
            body["top_k"] = sampling.top_k
        if sampling.repetition_penalty != 1.0:
            body["repetition_penalty"] = sampling.repetition_penalty
    return body


def reply_text(data: object, endpoint: str = "") -> str:
    """The reply text of a chat-completions response; native tool calls become XML call text."""
    try:
        message = data["choices"][0]["message"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise PolicyError(f"{endpoint}: response has no choices[0].message: {str(data)[:200]}") from None
    text = message.get("content") or ""
    # Servers that parse reasoning (transformers serve for Qwen models, vLLM with a reasoning parser)
    # return the monologue apart; put it back in the reply format the environment reads.
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        text = f"<think>{reasoning}</think>\n{text.lstrip()}"
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        action = action_from_tool_call(function.get("name"), function.get("arguments"))
        text += "\n" + render_action(action)
    return text


def dialect_of(entry: dict[str, Any]) -> str:
    """The dialect a ``/v1/models`` entry reveals: vLLM names itself, transformers serve has a status."""
    if entry.get("owned_by") == "vllm" or "max_model_len" in entry:
        return "vllm"
    if isinstance(entry.get("status"), dict):
        return "transformers"
    return "openai"


class _Transient(Exception):
    """A failure worth retrying (the server may be restarting or overloaded)."""


@dataclass
class ChatClient:
    """Chat completions against one server for one model (thread-safe; see the module docstring)."""

    base_url: str
    model: str
    sampling: Sampling = field(default_factory=Sampling)
    dialect: str = "openai"
    timeout: float = 600.0
    retries: int = 3
    max_concurrency: int | None = None
    eos: dict[str, Any] = field(default_factory=dict)
    server: ServerHandle | None = None
    backoff: float = 1.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/").removesuffix("/chat/completions")
        self._slots = self._new_slots()

    def __getstate__(self) -> dict[str, Any]:  # a copy in another process: its own slots, no server handle
        return {k: v for k, v in self.__dict__.items() if k not in ("_slots", "server")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, server=None)
        self._slots = self._new_slots()

    def _new_slots(self) -> threading.BoundedSemaphore:
        return threading.BoundedSemaphore(max(1, self.max_concurrency or IN_FLIGHT[self.dialect]))

    @property
    def endpoint(self) -> str:
        return self.base_url + "/chat/completions"

    def complete(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> Completion:
        """One reply to ``messages`` (``max_tokens``, ``timeout``, ``retries``: this request's own)."""
        body = request_body(
            self.model, messages, self.sampling, self.dialect, max_tokens=max_tokens, eos=self.eos
        )
        start = time.monotonic()
        data = self._with_retries(lambda: self._request(self.endpoint, body, timeout=timeout), retries)
        text = reply_text(data, self.endpoint)  # raises unless data holds choices[0].message
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=str(data["choices"][0].get("finish_reason") or ""),
            seconds=time.monotonic() - start,
        )

    def check(self) -> ServerInfo:
        """Preflight: the server answers, serves ``model``, and generates one token with these parameters."""
        wait = min(self.timeout, PREFLIGHT_TIMEOUT)
        try:
            listing = self._request(self.base_url + "/models", None, retry_http=False, timeout=wait)
        except _Transient as err:
            raise ModelServerError(f"model server at {self.base_url} is unreachable: {err}") from None
        except ModelServerError:
            raise
        except PolicyError:
            listing = None  # no model listing on this server: the probe alone decides
        entries = [e for e in (listing or {}).get("data") or [] if isinstance(e, dict)]
        models = tuple(str(e.get("id")) for e in entries)
        if listing is not None and self.model not in models:
            served = ", ".join(models) or "no model"
            raise PolicyError(f"model server at {self.base_url} serves {served}, not {self.model!r}")
        entry = next((e for e in entries if e.get("id") == self.model), {})
        if self.dialect == "openai" and entry:
            self.dialect = dialect_of(entry)
            self._slots = self._new_slots()  # before any task's request: nobody holds a slot yet
        try:
            self.complete(PROBE, max_tokens=1, timeout=wait, retries=min(self.retries, 1))
        except PolicyError as err:
            raise type(err)(f"one-token probe failed: {err}") from None
        limit = entry.get("max_model_len")
        return ServerInfo(models, self.dialect, int(limit) if isinstance(limit, int) else None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path`` under the server's root (``/tokenize``), with the usual retries."""
        root = self.base_url.removesuffix("/v1")
        return self._with_retries(lambda: self._request(root + path, body))

    def _with_retries(self, call, retries: int | None = None):
        retries = self.retries if retries is None else retries
        last: Exception | None = None
        for attempt in range(retries + 1):
            try:
                with self._slots:
                    return call()
            except _Transient as err:
                last = err
                if attempt == retries:
                    break
                if self.server is not None:
                    if not self.server.wait_ready(self.timeout):
                        raise ModelServerError(
                            f"{self.base_url}: {err}; the managed server is down"
                        ) from None
                else:
                    time.sleep(min(30.0, self.backoff * 2**attempt))
        raise ModelServerError(f"{self.base_url}: {last} (after {retries + 1} attempts)")

    def _request(
        self, url: str, body: dict[str, Any] | None, retry_http: bool = True, timeout: float | None = None
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data, headers, method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:300].strip()
            if retry_http and (err.code >= 500 or err.code in TRANSIENT_HTTP):
                raise _Transient(f"HTTP {err.code}: {detail}") from None
            kind = ModelServerError if err.code >= 500 else PolicyError
            raise kind(f"{url} answered HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            raise _Transient(str(getattr(err, "reason", err)) or type(err).__name__) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise PolicyError(f"{url} answered no JSON: {raw[:200]!r}") from None
