"""Prompt length in tokens, and the one policy that shortens a prompt that is too long.

``trim_messages`` is the policy for fitting a prompt into a model's context limit; the step-instance
builder applies it (``steps build --max-prompt-tokens``, through ``trajectories.learnable.fit_prompt``).
The trainers and the chat policies do not call it (yet): their prompts are bounded only by the window
and the observation budget. The policy, applied until the prompt fits:

1. shorten the observations before the newest round, oldest first, to head and tail around a
   visible marker (never below ``min_observation_chars``);
2. then drop whole rounds (action + observation), oldest first, and count them in the task
   message's note of earlier actions;
3. then shorten the newest observation the same way;
4. if the system prompt, the issue and the newest round still do not fit, give up and say so
   (``TrimReport.fits`` is False): the caller drops the instance or refuses the request.

Tokens are counted by a :class:`TokenCounter` over the chat as the model's chat template renders
it, generation prompt included; a tokenizer without a chat template counts the message texts plus
a few tokens per message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.context.prompt import OBSERVATION_HEADER, earlier_note, truncate_observation

MIN_OBSERVATION_CHARS = 200
TOKENS_PER_MESSAGE = 4  # role markers of a chat without a template (ChatML spends 4-5 per message)
_NOTE = re.compile(r"\[(\d+) earlier actions not shown\]")

Messages = Sequence[Mapping[str, str]]
CountTokens = Callable[[Messages], int]


class TokenCounter:
    """Counts the tokens of chat messages and of plain text with one tokenizer."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.has_template = bool(getattr(tokenizer, "chat_template", None))
        self._overheads: dict[tuple[str, ...], int] = {}

    @classmethod
    def from_path(cls, path: str | Path) -> TokenCounter:
        """A counter for the tokenizer saved in ``path`` (read offline; nothing is downloaded)."""
        from transformers import AutoTokenizer  # heavy: only when a tokenizer is asked for

        return cls(AutoTokenizer.from_pretrained(str(path), local_files_only=True))

    def text(self, text: str) -> int:
        """Tokens of ``text`` on its own (a target action, one message's content)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render(self, messages: Messages) -> str:
        """The prompt text the model reads: the chat template's rendering with the generation prompt.

        Without a template: the message texts, one after another.
        """
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        if not self.has_template:
            return "".join(m["content"] for m in chat)
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)

    def byte_bound(self, messages: Messages) -> int:
        """An upper bound of the prompt's tokens without tokenizing: its rendering's UTF-8 bytes.

        The template's own text is measured once per sequence of roles (rendered with empty
        contents), the contents by their UTF-8 length; exact for templates that insert contents
        verbatim, and an over-estimate for those that trim them. Valid for byte-level tokenizers.
        """
        roles = tuple(m["role"] for m in messages)
        overhead = self._overheads.get(roles)
        if overhead is None:
            empty = [{"role": role, "content": ""} for role in roles]
            overhead = self._overheads[roles] = len(self.render(empty).encode("utf-8"))
        return overhead + sum(len(m["content"].encode("utf-8")) for m in messages)

    def messages(self, messages: Messages) -> int:
        """Tokens of the prompt the model reads: the rendered chat plus the generation prompt."""
        if not self.has_template:
            return sum(self.text(m["content"]) + TOKENS_PER_MESSAGE for m in messages)
        return self.text(self.render(messages))

    __call__ = messages


@dataclass(frozen=True)
class TrimReport:
    """What ``trim_messages`` did to one prompt."""

    tokens_before: int
    tokens: int  # after trimming
    max_tokens: int
    observations_trimmed: int = 0
    rounds_dropped: int = 0

    @property
    def fits(self) -> bool:
        return self.tokens <= self.max_tokens

    @property
    def trimmed(self) -> bool:
        return bool(self.observations_trimmed or self.rounds_dropped)

    def to_dict(self) -> dict[str, int | bool]:
        return {
            "tokens_before": self.tokens_before,
            "tokens": self.tokens,
            "prompt_budget": self.max_tokens,  # the most tokens the prompt may take (not the reply's)
            "observations_trimmed": self.observations_trimmed,
            "rounds_dropped": self.rounds_dropped,
            "fits": self.fits,
        }


def _task_index(messages: list[dict[str, str]]) -> int:
    """Index of the task message: the first user message (rounds start after it)."""
    return next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages))


def _shorten(content: str, keep: int) -> str:
    header = OBSERVATION_HEADER if content.startswith(OBSERVATION_HEADER) else ""
    return header + truncate_observation(content[len(header) :], keep)


def _chars_per_token(messages: list[dict[str, str]], tokens: int) -> float:
    return max(1.0, sum(len(m["content"]) for m in messages) / max(1, tokens))


def _last_round(messages: list[dict[str, str]]) -> int:
    """Index of the newest round's assistant message (the end of the chat when there is none)."""
    first = _task_index(messages) + 1
    starts = [i for i in range(first, len(messages)) if messages[i]["role"] == "assistant"]
    return starts[-1] if starts else len(messages)


def _trim_observations(
    messages: list[dict[str, str]],
    tokens: int,
    limit: int,
    count: CountTokens,
    min_chars: int,
    indices: range,
) -> tuple[int, int]:
    """Shorten the observations at ``indices`` in order until the prompt fits; (tokens, shortened)."""
    trimmed: set[int] = set()
    for index in indices:
        if messages[index]["role"] == "assistant":
            continue
        while tokens > limit:
            content = messages[index]["content"]
            excess_chars = math.ceil((tokens - limit) * _chars_per_token(messages, tokens) * 1.05) + 64
            keep = max(min_chars, len(content) - excess_chars)
            shorter = _shorten(content, keep)
            if len(shorter) >= len(content):
                break
            messages[index] = {**messages[index], "content": shorter}
            trimmed.add(index)
            tokens = count(messages)
        if tokens <= limit:
            break
    return tokens, len(trimmed)


def _with_more_earlier(task_text: str, dropped: int) -> str:
    match = _NOTE.search(task_text)
    if match is None:
        return f"{task_text}\n\n{earlier_note(dropped)}"
    total = int(match.group(1)) + dropped
    return task_text[: match.start()] + earlier_note(total) + task_text[match.end() :]


def _drop_rounds(
    messages: list[dict[str, str]], tokens: int, limit: int, count: CountTokens
) -> tuple[list[dict[str, str]], int, int]:
    """Drop the oldest rounds (keeping the newest) until the prompt fits; (messages, tokens, dropped)."""
    task = _task_index(messages)
    dropped = 0
    while tokens > limit:
        starts = [i for i in range(task + 1, len(messages)) if messages[i]["role"] == "assistant"]
        if len(starts) < 2:
            break
        messages = messages[: starts[0]] + messages[starts[1] :]
        messages[task] = {**messages[task], "content": _with_more_earlier(messages[task]["content"], 1)}
        dropped += 1
        tokens = count(messages)
    return messages, tokens, dropped


def trim_messages(
    messages: Messages,
    max_tokens: int,
    count: CountTokens,
    *,
    min_observation_chars: int = MIN_OBSERVATION_CHARS,
    drop_rounds: bool = True,
) -> tuple[list[dict[str, str]], TrimReport]:
    """``messages`` shortened until ``count(messages) <= max_tokens``, and what was done.

    ``messages`` is a chat as :func:`~swe_srl.context.prompt.build_messages` writes it (system,
    task, then rounds of assistant action and observation). The input is never modified. Read
    ``report.fits``: a prompt whose fixed part (system, task, newest round) is over the limit is
    returned as short as the policy makes it, but still too long.
    """
    out = [dict(m) for m in messages]
    before = tokens = count(out)
    if tokens <= max_tokens:
        return out, TrimReport(before, tokens, max_tokens)
    older = range(_task_index(out) + 1, _last_round(out))
    tokens, shortened = _trim_observations(out, tokens, max_tokens, count, min_observation_chars, older)
    dropped = 0
    if tokens > max_tokens and drop_rounds:
        out, tokens, dropped = _drop_rounds(out, tokens, max_tokens, count)
    if tokens > max_tokens:
        newest = range(_last_round(out), len(out))
        tokens, more = _trim_observations(out, tokens, max_tokens, count, min_observation_chars, newest)
        shortened += more
    return out, TrimReport(before, tokens, max_tokens, shortened, dropped)
