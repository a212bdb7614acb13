"""SWE-agent ``.traj`` files: releases 1.x (tool calls) and 0.x (command strings).

Both keep one entry per action in ``trajectory[]`` (``action``, ``thought``, ``observation``; 1.x
adds ``execution_time``) and the chat transcript in ``history[]``. In 1.x with function calling the
assistant messages of ``history[]`` also carry the model's tool calls; their JSON arguments give the
structured action (typed: ``view_range`` stays a list of ints). Without tool calls (0.x, or 1.x
with a text parser) the command string is parsed (``sweagent_commands``). ``trajectory[]`` is the
authority for thought and observation: it is what the agent executed and saw.

The task is the instance's own issue: the history's demonstrations (``is_demo`` messages, a whole
other task solved as an example) are left out of it and kept in ``metadata["demonstrations"]``.
The special commands the trajectory offered come from its own command documentation (0.x: the
system prompt's COMMANDS section; 1.x: ``replay_config.agent.tools.command_docs``); ``legacy``
then translates the exact ones into the modern tools and lists the rest as the instance's tools.
"""

from __future__ import annotations

import json
from typing import Any

from swe_srl.actions import ActionParseError, action_from_tool_call
from swe_srl.records import Action, Step, Trajectory
from swe_srl.tools.legacy import LEGACY_TOOLS, specs_from_docs
from swe_srl.tools.schema import ToolSpec
from swe_srl.trajectories.importers.common import (
    Where,
    content_text,
    extract_problem_statement,
    require,
)
from swe_srl.trajectories.importers.legacy import finish_legacy
from swe_srl.trajectories.importers.sweagent_commands import parse_command_line

FORMAT_V1 = "swe-agent"
FORMAT_LEGACY = "swe-agent-legacy"


def is_sweagent(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("trajectory"), list) and "history" in data


def is_v1(data: dict[str, Any]) -> bool:
    """1.x files name their version, carry execution times, tool calls or a replay config."""
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    version = str(info.get("swe_agent_version", ""))
    if version:
        return not version.startswith("0.")
    entries = [e for e in data["trajectory"] if isinstance(e, dict)]
    history = [m for m in data.get("history") or [] if isinstance(m, dict)]
    return (
        "replay_config" in data
        or any("execution_time" in e for e in entries)
        or any(m.get("tool_calls") for m in history)
    )


def _replay_config(data: dict[str, Any], where: Where) -> dict[str, Any]:
    config = data.get("replay_config") or {}
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as err:
            raise where.error(f"not valid JSON: {err}", "replay_config") from None
    return config if isinstance(config, dict) else {}


def _tool_calls_per_entry(entries: list[dict], history: list[Any]) -> list[dict | None]:
    """For each trajectory entry, the first tool call of the assistant message that issued it.

    Messages are matched in order by their ``action`` text, so history messages without an entry
    (requeries after format errors) are skipped rather than shifting every later step.
    """
    issued = [m for m in history if isinstance(m, dict) and m.get("role") == "assistant" and "action" in m]
    calls: list[dict | None] = []
    pos = 0
    for entry in entries:
        match = next(
            (j for j in range(pos, len(issued)) if issued[j].get("action") == entry.get("action")), None
        )
        if match is None:
            calls.append(None)
            continue
        pos = match + 1
        tool_calls = issued[match].get("tool_calls") or []
        calls.append(tool_calls[0] if tool_calls and isinstance(tool_calls[0], dict) else None)
    return calls


def _action(
    entry_action: str, call: dict | None, specs: dict[str, ToolSpec], where: Where, field: str
) -> Action:
    if call is None:
        return parse_command_line(entry_action, specs)
    function = call.get("function")
    if not isinstance(function, dict):
        raise where.error("tool call has no 'function' object", f"{field}.function")
    try:
        return action_from_tool_call(function.get("name"), function.get("arguments"))
    except ActionParseError as err:
        raise where.error(str(err), f"{field}.function.arguments") from None


def _workdir(entry: dict) -> str | None:
    """The shell's directory recorded with an entry (``state``: a JSON object or its text)."""
    state = entry.get("state")
    if isinstance(state, str):
        try:
            state = json.loads(state)
        except json.JSONDecodeError:
            return None
    value = state.get("working_dir") if isinstance(state, dict) else None
    return value if isinstance(value, str) else None


def _steps(
    data: dict[str, Any], where: Where, specs: dict[str, ToolSpec], with_calls: bool
) -> tuple[list[Step], list[str | None]]:
    entries = require(data, "trajectory", list, where)
    history = data.get("history") if isinstance(data.get("history"), list) else []
    for index, entry in enumerate(entries):
        require(entry, "action", str, where, f"trajectory[{index}].action")
    calls = _tool_calls_per_entry(entries, history) if with_calls else [None] * len(entries)
    steps = []
    for index, (entry, call) in enumerate(zip(entries, calls, strict=True)):
        field = f"trajectory[{index}]"
        observation = entry.get("observation", "")
        if not isinstance(observation, str):
            raise where.error("expected str", f"{field}.observation")
        duration = entry.get("execution_time")
        steps.append(
            Step(
                thought=str(entry.get("thought") or ""),
                action=_action(entry["action"], call, specs, where, f"history[tool call of {field}]"),
                observation=observation,
                duration=float(duration) if isinstance(duration, (int, float)) else None,
                raw_action=entry["action"],
            )
        )
    return steps, [_workdir(entry) for entry in entries]


def _task_and_demos(history: list[Any]) -> tuple[str, list[str]]:
    """The first user message that is not a demonstration, and the demonstrations' texts."""
    task, demos = "", []
    for message in history:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        text = content_text(message.get("content"))
        if message.get("is_demo"):
            demos.append(text)
        elif not task:
            task = text
    return task, demos


def _first_message(history: list[Any], role: str) -> str:
    for message in history:
        if isinstance(message, dict) and message.get("role") == role and not message.get("is_demo"):
            return content_text(message.get("content"))
    return ""


def _metadata(data: dict[str, Any], trajectory_id: str, extra: dict[str, Any]) -> dict[str, Any]:
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    metadata: dict[str, Any] = {"trajectory_id": trajectory_id, "info": info}
    if "environment" in data:
        metadata["environment"] = data["environment"]
    metadata.update(extra)
    return metadata


def _demos(demos: list[str]) -> dict[str, Any]:
    return {"demonstrations": demos} if demos else {}


def import_sweagent_v1(data: Any, where: Where) -> Trajectory:
    """A SWE-agent 1.x ``.traj`` document as a trajectory."""
    config = _replay_config(data, where)
    problem = config.get("problem_statement") if isinstance(config.get("problem_statement"), dict) else {}
    history = data.get("history") if isinstance(data.get("history"), list) else []
    tools = (config.get("agent") or {}).get("tools") or {}
    specs = specs_from_docs(str(tools.get("command_docs") or "")) if isinstance(tools, dict) else {}
    steps, workdirs = _steps(data, where, specs, with_calls=True)
    steps, legacy = finish_legacy(steps, workdirs, specs, created_text="")
    instance_id = str(problem.get("id") or data.get("environment") or where.default_id)
    if instance_id == "main":  # SWE-agent's default environment name says nothing about the task
        instance_id = where.default_id
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    model = (config.get("agent") or {}).get("model") or {}
    task, demos = _task_and_demos(history)
    version = {"swe_agent_version": str(info.get("swe_agent_version", "1.x"))}
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT_V1,
        model=str(model.get("name", "")) if isinstance(model, dict) else "",
        problem_statement=str(problem.get("text") or extract_problem_statement(task)),
        steps=steps,
        final_patch=str(info.get("submission") or ""),
        resolved=None,
        metadata=_metadata(data, instance_id, {**version, **legacy, **_demos(demos)}),
    )


def import_sweagent_legacy(data: Any, where: Where) -> Trajectory:
    """A SWE-agent 0.x ``.traj`` document (command-string actions) as a trajectory."""
    history = data.get("history") if isinstance(data.get("history"), list) else []
    specs = specs_from_docs(_first_message(history, "system")) or dict(LEGACY_TOOLS)
    steps, workdirs = _steps(data, where, specs, with_calls=False)
    steps, legacy = finish_legacy(steps, workdirs, specs, created_text="\n")
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    instance_id = where.default_id
    task, demos = _task_and_demos(history)
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT_LEGACY,
        model="",
        problem_statement=extract_problem_statement(task),
        steps=steps,
        final_patch=str(info.get("submission") or ""),
        resolved=None,
        metadata=_metadata(data, instance_id, {"swe_agent_version": "0.x", **legacy, **_demos(demos)}),
    )


def import_sweagent(data: Any, where: Where) -> Trajectory:
    """Either generation, chosen from the document itself."""
    if not is_sweagent(data):
        raise where.error("not a SWE-agent trajectory (needs 'trajectory' and 'history')", "trajectory")
    return import_sweagent_v1(data, where) if is_v1(data) else import_sweagent_legacy(data, where)
