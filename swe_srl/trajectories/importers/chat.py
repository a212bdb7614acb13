"""Chat transcripts: SWE-smith XML function calls and OpenAI-style ``tool_calls`` (SWE-Gym/OpenHands).

SWE-smith (``SWE-bench/SWE-smith-trajectories``): a system prompt, a user message with the task,
then assistant turns whose text ends in ``<function=NAME><parameter=...>...</function>`` and user
turns ``OBSERVATION:\\n<tool output>``. Rows carry ``instance_id``, ``resolved``, ``model``,
``traj_id`` and ``patch`` beside ``messages``. The dataset's ``ticks`` split writes each call as
SWE-agent's thought-action format instead: the command line SWE-agent ran
(``str_replace_editor view /testbed/x.py --view_range 1 20``, a bash command, ``submit``) in the
turn's last fenced block, read as SWE-agent read it (``sweagent_commands.parse_command_line``).

OpenAI style: assistant messages with ``tool_calls`` (JSON-string arguments), answered by
``role: tool`` messages matched through ``tool_call_id``. One assistant message may hold several
calls; each becomes a step, the message's text is the first one's thought.

Assistant turns without a readable action (a model's format error and the environment's reply)
are not steps; they are kept in ``metadata["skipped_turns"]`` so the import stays lossless.
"""

from __future__ import annotations

import json
from typing import Any

from swe_srl.actions import ActionParseError, action_from_tool_call, parse_completion
from swe_srl.records import Action, Step, Trajectory
from swe_srl.tools.legacy import specs_from_docs
from swe_srl.trajectories.importers.common import (
    Where,
    chat_column,
    content_text,
    extract_problem_statement,
    messages_of,
    strip_observation_prefix,
    uploaded_folder,
)
from swe_srl.trajectories.importers.legacy import canonical_steps
from swe_srl.trajectories.importers.openhands import finish_openhands
from swe_srl.trajectories.importers.sweagent_commands import parse_command_line
from swe_srl.trajectories.importers.sweagent_rows import split_command

FORMAT_SWESMITH = "swe-smith"
FORMAT_OPENAI = "openai"
_ROW_KEYS = ("instance_id", "resolved", "model", "traj_id", "patch", "messages")


def _task(messages: list[dict[str, Any]]) -> str:
    user = next((m for m in messages if m["role"] == "user"), None)
    return content_text(user.get("content")) if user else ""


def _row_fields(data: Any, where: Where, fmt: str, steps: list[Step], extra: dict[str, Any]) -> Trajectory:
    row = data if isinstance(data, dict) else {}
    instance_id = str(row.get("instance_id") or row.get("id") or where.default_id)
    trajectory_id = str(row.get("traj_id") or row.get("trajectory_id") or instance_id)
    resolved = row.get("resolved")
    chat = chat_column(row)
    # every other column is kept, except the one that held the chat
    metadata = {key: value for key, value in row.items() if key not in _ROW_KEYS and value is not chat}
    metadata.update(extra)
    metadata["trajectory_id"] = trajectory_id
    task = _task(messages_of(data, where))
    workdir = uploaded_folder(task)
    if workdir:
        metadata["workdir"] = workdir
    return Trajectory(
        instance_id=instance_id,
        source_format=fmt,
        model=str(row.get("model") or ""),
        problem_statement=extract_problem_statement(task),
        steps=steps,
        final_patch=str(row.get("patch") or row.get("model_patch") or ""),
        resolved=bool(resolved) if resolved is not None else None,
        metadata=metadata,
    )


def _skipped(index: int, message: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "index": index,
        "role": message["role"],
        "content": content_text(message.get("content")),
        "reason": reason,
    }


def is_thought_action(data: Any) -> bool:
    """Assistant turns that end in a fenced command block, no XML call among them (the ``ticks`` split)."""
    messages = chat_column(data)
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            return False
    texts = [
        content_text(m.get("content"))
        for m in (messages if isinstance(messages, list) else [])
        if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    return (
        bool(texts)
        and not any("<function=" in text for text in texts)
        and any(text.rstrip().endswith("```") and split_command(text) for text in texts)
    )


def _thought_action(text: str, specs: dict) -> tuple[str, Action] | None:
    """(thought, action) of a turn in SWE-agent's thought-action format, or None when it has no block."""
    if "<function=" in text or not text.rstrip().endswith("```"):
        return None
    found = split_command(text)
    return None if found is None else (found[0], parse_command_line(found[1], specs))


def import_swesmith(data: Any, where: Where) -> Trajectory:
    """A SWE-smith chat transcript (XML function calls, or thought-action blocks) as a trajectory."""
    messages = messages_of(data, where)
    system = next((content_text(m.get("content")) for m in messages if m["role"] == "system"), "")
    specs = specs_from_docs(system)  # the commands its prompt documents; str_replace_editor and submit always
    steps: list[Step] = []
    skipped: list[dict[str, Any]] = []
    pending: Step | None = None
    task_seen = False
    for index, message in enumerate(messages):
        role = message["role"]
        text = content_text(message.get("content"))
        if role == "user" and not task_seen:
            task_seen = True  # the task prompt, not an observation
        elif role == "assistant":
            try:
                thought, action = _thought_action(text, specs) or _completion(text)
            except ActionParseError as err:
                skipped.append(_skipped(index, message, str(err)))
                pending = None
                continue
            pending = Step(thought=thought, action=action, observation="", raw_action=text)
            steps.append(pending)
        elif role in ("user", "tool"):
            if pending is not None:
                pending.observation = strip_observation_prefix(text)
                pending = None
            elif steps or skipped:
                skipped.append(_skipped(index, message, "reply to a turn without an action"))
    extra = {"skipped_turns": skipped} if skipped else {}
    return _row_fields(data, where, FORMAT_SWESMITH, canonical_steps(steps), extra)


def _completion(text: str) -> tuple[str, Action]:
    parsed = parse_completion(text)
    return parsed.thought, parsed.action


def _call_step(call: Any, thought: str, where: Where, field: str) -> tuple[str, Step]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict):
        raise where.error("tool call has no 'function' object", field)
    try:
        action = action_from_tool_call(function.get("name"), function.get("arguments"))
    except ActionParseError as err:
        raise where.error(str(err), f"{field}.function.arguments") from None
    raw = function.get("arguments")
    raw_text = raw if isinstance(raw, str) else str(raw)
    return str(call.get("id") or ""), Step(
        thought=thought, action=action, observation="", raw_action=raw_text
    )


def import_openai(data: Any, where: Where) -> Trajectory:
    """An OpenAI-style transcript (``tool_calls`` + ``role: tool`` replies) as a trajectory."""
    messages = messages_of(data, where)
    steps: list[Step] = []
    by_id: dict[str, Step] = {}
    unanswered: list[Step] = []
    skipped: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            thought = content_text(message.get("content")).strip()
            for number, call in enumerate(message["tool_calls"]):
                call_id, step = _call_step(
                    call, thought if number == 0 else "", where, f"messages[{index}].tool_calls[{number}]"
                )
                steps.append(step)
                unanswered.append(step)
                if call_id:
                    by_id[call_id] = step
        elif role == "tool":
            step = by_id.pop(str(message.get("tool_call_id") or ""), None)
            if step is None and unanswered:
                step = unanswered[0]  # transcripts without ids answer calls in order
            if step is None:
                raise where.error("tool reply without a preceding tool call", f"messages[{index}]")
            unanswered = [other for other in unanswered if other is not step]
            step.observation = strip_observation_prefix(content_text(message.get("content")))
        elif role == "assistant":
            skipped.append(_skipped(index, message, "assistant message without tool calls"))
    extra: dict[str, Any] = {"skipped_turns": skipped} if skipped else {}
    declared = data.get("tools") if isinstance(data, dict) and isinstance(data.get("tools"), list) else []
    steps, extra = finish_openhands(steps, declared, extra)  # SWE-Gym rows: OpenHands' tool names
    return _row_fields(data, where, FORMAT_OPENAI, steps, extra)
