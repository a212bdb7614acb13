"""Which importer a raw record needs, decided from its content alone."""

from __future__ import annotations

from typing import Any

from swe_srl.records import RecordError
from swe_srl.trajectories.importers.chat import FORMAT_OPENAI, FORMAT_SWESMITH
from swe_srl.trajectories.importers.common import content_text
from swe_srl.trajectories.importers.mini import FORMAT as FORMAT_MINI
from swe_srl.trajectories.importers.mini import is_mini
from swe_srl.trajectories.importers.native import FORMAT as FORMAT_NATIVE
from swe_srl.trajectories.importers.native import is_native
from swe_srl.trajectories.importers.sweagent import FORMAT_LEGACY, FORMAT_V1, is_sweagent, is_v1


def _assistant_messages(data: Any) -> list[dict[str, Any]]:
    messages = data.get("messages") if isinstance(data, dict) else data
    if isinstance(messages, str):
        import json

        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            return []
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]


def detect_format(data: Any, *, source: str = "", record: str = "") -> str:
    """The format name of one raw record; ``RecordError`` when no importer recognises it."""
    if is_native(data):
        return FORMAT_NATIVE
    if is_sweagent(data):
        return FORMAT_V1 if is_v1(data) else FORMAT_LEGACY
    assistants = _assistant_messages(data)
    if any(m.get("tool_calls") for m in assistants):
        return FORMAT_OPENAI
    if any("<function=" in content_text(m.get("content")) for m in assistants):
        return FORMAT_SWESMITH
    if is_mini(data):
        return FORMAT_MINI
    raise RecordError(
        "unknown trajectory format (expected SWE-agent .traj, SWE-smith or OpenAI chat messages, "
        "mini-swe-agent or swe-srl JSON)",
        source=source,
        record=record,
    )
