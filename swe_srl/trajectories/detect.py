"""Which importer a raw record needs, decided from its content alone."""

from __future__ import annotations

from typing import Any

from swe_srl.records import RecordError
from swe_srl.trajectories.importers.adp import FORMAT as FORMAT_ADP
from swe_srl.trajectories.importers.adp import is_adp
from swe_srl.trajectories.importers.chat import FORMAT_OPENAI, FORMAT_SWESMITH, is_thought_action
from swe_srl.trajectories.importers.common import chat_column, content_text
from swe_srl.trajectories.importers.mini import FORMAT as FORMAT_MINI
from swe_srl.trajectories.importers.mini import is_mini
from swe_srl.trajectories.importers.moatless import FORMAT as FORMAT_MOATLESS
from swe_srl.trajectories.importers.moatless import is_moatless
from swe_srl.trajectories.importers.native import FORMAT as FORMAT_NATIVE
from swe_srl.trajectories.importers.native import is_native
from swe_srl.trajectories.importers.openhands import FORMAT as FORMAT_OPENHANDS
from swe_srl.trajectories.importers.openhands import FORMAT_SFT as FORMAT_OPENHANDS_SFT
from swe_srl.trajectories.importers.openhands import is_event_stream, is_output_row, is_sft_row
from swe_srl.trajectories.importers.sweagent import FORMAT_LEGACY, FORMAT_V1, is_sweagent, is_v1
from swe_srl.trajectories.importers.sweagent_rows import FORMAT as FORMAT_SWEAGENT_ROWS
from swe_srl.trajectories.importers.sweagent_rows import is_sweagent_rows


def _assistant_messages(data: Any) -> list[dict[str, Any]]:
    messages = chat_column(data)
    if isinstance(messages, str):
        import json

        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            return []
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]


def _tagged_mini(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("trajectory_format", "")).startswith("mini-swe-agent")


def detect_format(data: Any, *, source: str = "", record: str = "") -> str:
    """The format name of one raw record; ``RecordError`` when no importer recognises it."""
    if is_native(data):
        return FORMAT_NATIVE
    if is_sweagent(data):
        return FORMAT_V1 if is_v1(data) else FORMAT_LEGACY
    for check, name in (
        (is_sweagent_rows, FORMAT_SWEAGENT_ROWS),
        (is_moatless, FORMAT_MOATLESS),
        (is_output_row, FORMAT_OPENHANDS),
        (is_event_stream, FORMAT_OPENHANDS),
        (is_adp, FORMAT_ADP),
        (_tagged_mini, FORMAT_MINI),
        (is_sft_row, FORMAT_OPENHANDS_SFT),
    ):
        if check(data):
            return name
    assistants = _assistant_messages(data)
    if any(m.get("tool_calls") for m in assistants):
        return FORMAT_OPENAI
    if any("<function=" in content_text(m.get("content")) for m in assistants):
        return FORMAT_SWESMITH
    if is_mini(data):
        return FORMAT_MINI
    if is_thought_action(data):
        return FORMAT_SWESMITH
    raise RecordError(
        "unknown trajectory format (expected SWE-agent .traj or dataset rows, SWE-smith or OpenAI chat "
        "messages, OpenHands output or events, SWE-Gym rows, mini-swe-agent, ADP, Moatless or swe-srl JSON)",
        source=source,
        record=record,
    )
