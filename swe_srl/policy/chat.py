"""``ChatPolicy``: the one shape of every model-backed policy (``openai:``, ``hf:``, ``vllm:``).

A chat policy builds the context with ``swe_srl.context.build_messages`` (the agent loop) or asks the
oracle prompt as one user message (the oracle-file-edit setting), fits it into the model's context
window, and asks a :class:`ChatBackend` for the reply: an HTTP server through
``swe_srl.policy.client.ChatClient``, or in-process weights (``swe_srl.policy.hf``). Every backend
thus sees exactly the same messages.

Context window: before each request the prompt is counted with the model's own tokenizer; if it
leaves fewer than ``max_tokens`` tokens for the reply, ``swe_srl.context.trim_messages`` shortens it
(older observations first, then the oldest rounds, then the newest observation). If even that does
not leave ``max_tokens``, the reply's budget shrinks to what is left; with fewer than
``min_reply_tokens`` left, :class:`ContextWindowError` ends the episode with that reason.
The reply (:class:`Reply`, a ``str``) carries its metadata, which the agent loop stores in the step:
``{"model": {prompt/completion tokens, finish reason, seconds}, "context": TrimReport}``;
:meth:`ChatPolicy.usage` sums them over the policy's task for the run's telemetry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from swe_srl.context import DEFAULT_CONTEXT, ContextConfig, build_messages, trim_messages
from swe_srl.policy.client import Completion
from swe_srl.policy.errors import PolicyError
from swe_srl.records import Step

Messages = list[dict[str, str]]
CountTokens = Callable[[Sequence[Any]], int]


class ContextWindowError(PolicyError):
    """The prompt does not fit the model's context window even after trimming."""


class Reply(str):
    """A reply's text, with what produced it in ``metadata`` (kept by the agent loop in the step)."""

    metadata: dict[str, Any]

    def __new__(cls, text: str, metadata: dict[str, Any] | None = None) -> Reply:
        reply = super().__new__(cls, text)
        reply.metadata = dict(metadata or {})
        return reply

    def __reduce__(self):
        return (Reply, (str(self), self.metadata))


class ChatBackend(Protocol):
    """Generates one reply to chat messages (``max_tokens`` overrides the configured budget)."""

    def complete(self, messages: Messages, max_tokens: int | None = None) -> Completion: ...


@dataclass(frozen=True)
class ContextWindow:
    """The model's context window in tokens and how to count a prompt's tokens."""

    limit: int
    count: CountTokens


class LockedCounter:
    """``count`` made safe for many threads (a fast tokenizer's state is not; counting takes ms).

    Picklable: a copy in another process gets its own lock.
    """

    def __init__(self, count: CountTokens):
        self.count = count
        self._lock = threading.Lock()

    def __call__(self, messages: Sequence[Any]) -> int:
        with self._lock:
            return self.count(messages)

    def __getstate__(self) -> dict[str, Any]:
        return {"count": self.count}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.count, self._lock = state["count"], threading.Lock()


class ChatPolicy:
    """A policy that asks a chat model (see the module docstring); one per task, sharing the backend."""

    def __init__(
        self,
        name: str,
        backend: ChatBackend,
        *,
        max_tokens: int,
        context: ContextConfig = DEFAULT_CONTEXT,
        window: ContextWindow | None = None,
        min_reply_tokens: int = 16,
    ):
        self.name = name
        self.backend = backend
        self.max_tokens = max_tokens
        self.context = context
        self.window = window
        self.min_reply_tokens = min_reply_tokens
        self._usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "generation_seconds": 0.0}

    def usage(self) -> dict[str, float]:
        """What this policy's requests used so far (a run engine adds it to the task's telemetry)."""
        return dict(self._usage)

    def act(self, problem_statement: str, history: list[Step]) -> Reply:
        return self.ask(build_messages(problem_statement, history, self.context))

    def oracle_answer(self, prompt: str) -> Reply:
        return self.ask([{"role": "user", "content": prompt}])

    def ask(self, messages: Messages) -> Reply:
        """The model's reply to ``messages``, fitted into the context window first."""
        messages, max_tokens, context = self.fit(messages)
        completion = self.backend.complete(messages, max_tokens)
        self._usage["requests"] += 1
        self._usage["prompt_tokens"] += completion.prompt_tokens or 0
        self._usage["completion_tokens"] += completion.completion_tokens or 0
        self._usage["generation_seconds"] += completion.seconds
        metadata: dict[str, Any] = {"model": completion.to_dict()}
        if context:
            metadata["context"] = context
        return Reply(completion.text, metadata)

    def fit(self, messages: Messages) -> tuple[Messages, int, dict[str, Any]]:
        """(messages that fit, the reply's token budget, what was done) for one request."""
        if self.window is None:
            return messages, self.max_tokens, {}
        limit = self.window.limit
        fitted, report = trim_messages(messages, max(1, limit - self.max_tokens), self.window.count)
        record: dict[str, Any] = {**report.to_dict(), "window": limit}
        if report.fits:
            return fitted, self.max_tokens, record
        room = limit - report.tokens
        if room < self.min_reply_tokens:
            raise ContextWindowError(
                f"the prompt needs {report.tokens} tokens after trimming; the context window is {limit}"
            )
        return fitted, room, {**record, "reply_tokens": room}
