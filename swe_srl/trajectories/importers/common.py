"""Helpers shared by the importers: where-am-I context for errors and message-content access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.records import RecordError

_PR_DESCRIPTION = re.compile(r"<pr_description>\n(.*?)\n</pr_description>", re.DOTALL)
_ISSUE_BLOCK = re.compile(r"ISSUE:\n(.*?)\n+INSTRUCTIONS:", re.DOTALL)
_UPLOADED = re.compile(r"<uploaded_files>\s*\n\s*(/[^\n]*?)\s*\n\s*</uploaded_files>")  # SWE-smith, OpenHands
_FILE_SUFFIXES = (".traj.json", ".traj", ".jsonl", ".json", ".parquet")  # longest first
_ISSUE_DESCRIPTION = re.compile(r"<issue_description>\n(.*?)\n</issue_description>", re.DOTALL)  # OpenHands


@dataclass(frozen=True)
class Where:
    """The file and record an importer is reading, for error messages and default ids."""

    source: str
    record: str = ""

    def error(self, message: str, field_name: str = "", record: str = "") -> RecordError:
        return RecordError(message, source=self.source, record=record or self.record, field_name=field_name)

    @property
    def default_id(self) -> str:
        """An id for records that carry none: the file's stem plus the record's position."""
        name = Path(self.source).name
        suffix = next((end for end in _FILE_SUFFIXES if name.endswith(end)), "")
        stem = name.removesuffix(suffix) or "trajectory"  # ids may hold dots (SWE-smith's do)
        return f"{stem}-{self.record.replace(' ', '')}" if self.record else stem


def content_text(content: Any) -> str:
    """Text of a chat message's content: a string, or a list of ``{"type": "text", "text": ...}`` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return str(content)


def require(data: Any, key: str, kind: type | tuple[type, ...], where: Where, field_name: str = "") -> Any:
    """``data[key]`` checked for presence and type; a ``RecordError`` naming the field otherwise."""
    name = field_name or key
    if not isinstance(data, dict) or key not in data:
        raise where.error("missing", name)
    value = data[key]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise where.error(f"expected {expected}, got {type(value).__name__}", name)
    return value


def extract_problem_statement(task_message: str) -> str:
    """The issue text inside a task prompt (``<pr_description>``, ``<issue_description>`` or
    ``ISSUE: ... INSTRUCTIONS:``); the whole message when it has none of them."""
    for pattern in (_PR_DESCRIPTION, _ISSUE_DESCRIPTION, _ISSUE_BLOCK):
        match = pattern.search(task_message)
        if match:
            return match.group(1)
    return task_message


def uploaded_folder(task_message: str) -> str | None:
    """The repository's folder a task prompt names in ``<uploaded_files>`` (SWE-agent 1.x, SWE-smith,
    OpenHands), or None: the working directory the expert's commands ran in."""
    match = _UPLOADED.search(task_message)
    return match.group(1) if match else None


def strip_observation_prefix(text: str) -> str:
    """Tool output without the ``OBSERVATION:`` header that chat transcripts put in front of it."""
    for prefix in ("OBSERVATION:\n", "OBSERVATION:"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


_CHAT_ROLES = frozenset({"system", "user", "assistant", "tool"})


def chat_column(data: Any) -> Any:
    """Where a record keeps its chat: ``messages``, a bare list, or a ``trajectory`` column of chat
    messages (``nebius/SWE-rebench-openhands-trajectories``, ``nvidia/SWE-Zero``) — as stored."""
    if not isinstance(data, dict):
        return data
    if "messages" in data:
        return data["messages"]
    column = data.get("trajectory")
    is_chat = isinstance(column, list) and bool(column)
    if is_chat and all(isinstance(m, dict) and m.get("role") in _CHAT_ROLES for m in column):
        return column
    return None


def messages_of(data: Any, where: Where) -> list[dict[str, Any]]:
    """The chat messages of a record: a bare list, ``{"messages": [...]}`` (or a ``trajectory``
    column of chat messages), or a JSON string of either."""
    import json

    messages = chat_column(data)
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError as err:
            raise where.error(f"not valid JSON: {err}", "messages") from None
    if not isinstance(messages, list):
        raise where.error("expected a list of chat messages", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise where.error("expected an object with a 'role'", f"messages[{index}]")
    return messages
