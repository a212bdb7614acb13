"""OpenHands event streams as steps: the current event format and the two older ones.

OpenHands records a run as events. Current (0.2x+): ``{"id", "source", "action", "args", ...}`` and
observations ``{"observation", "content", "extras", "cause": <action id>}``; an action made by a
tool call carries ``tool_call_metadata`` with the model's response, whose tool call (name and JSON
arguments) is the action exactly as the model wrote it. Older runs flatten ``args``/``extras`` into
the event, or store ``history`` as ``[action, observation]`` pairs. ``events_to_steps`` reads all
three. What the agent read is rebuilt as OpenHands' conversation memory wrote it: a command's
output with its prefix, suffix and the working-directory / exit-code lines; other observations'
``content``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from swe_srl.actions import ActionParseError, action_from_tool_call
from swe_srl.records import Action, ArgValue, Step
from swe_srl.trajectories.importers.common import Where

_EVENT_KEYS = frozenset({"id", "timestamp", "source", "message", "action", "observation", "cause", "content"})
_EVENT_KEYS |= {"tool_call_metadata", "llm_metrics", "extras", "args", "timeout", "hidden"}
_NOT_STEPS = frozenset({"message", "system", "recall", "change_agent_state", "null", "condensation"})
_NOT_STEPS |= {"agent_state_changed", "delegate", "reject"}
_NOT_ANSWERS = ("agent_state_changed", "recall", "null")
EDITOR_COMMANDS = frozenset({"view", "create", "str_replace", "insert", "undo_edit"})
# Fields OpenHands adds to an action event that the model never wrote (confirmation, risk, set-up).
_HARNESS_FIELDS = frozenset(
    {"impl_source", "security_risk", "is_confirmed", "confirmation_state", "action_risk", "keep_prompt"}
) | {"kernel_init_code", "blocking", "hidden", "wait_for_response", "images_urls"}


@dataclass
class EventSteps:
    """What an event stream holds: the task, the steps, and what was not a step."""

    task: str = ""
    steps: list[Step] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    declared_tools: list[dict] = field(default_factory=list)  # OpenAI schemas from the system event


def is_event(item: Any) -> bool:
    return isinstance(item, dict) and ("action" in item or "observation" in item)


def flatten(history: list, where: Where) -> list[dict]:
    """Events in order, whether ``history`` holds events or ``[action, observation]`` pairs."""
    events: list[dict] = []
    for index, item in enumerate(history):
        pair = item if isinstance(item, list) else [item]
        for part in pair:
            if not is_event(part):
                raise where.error(
                    "expected an OpenHands event (an 'action' or 'observation' object)", f"history[{index}]"
                )
            events.append(part)
    return events


def _args(event: dict) -> dict:
    args = event.get("args") if isinstance(event.get("args"), dict) else None
    if args is not None:
        return args
    return {k: v for k, v in event.items() if k not in _EVENT_KEYS or k == "content"}  # flat, older


def _extras(event: dict) -> dict:
    extras = event.get("extras") if isinstance(event.get("extras"), dict) else None
    return extras if extras is not None else {k: v for k, v in event.items() if k not in _EVENT_KEYS}


def _tool_call(event: dict) -> tuple[Action, str] | None:
    """The action as the model's tool call wrote it, and the response's text (its thought)."""
    meta = event.get("tool_call_metadata")
    if not isinstance(meta, dict):
        return None
    response = meta.get("model_response") if isinstance(meta.get("model_response"), dict) else {}
    choices = response.get("choices") or [{}]
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    calls = (message or {}).get("tool_calls") or []
    for number, call in enumerate(calls):
        if isinstance(call, dict) and call.get("id") == meta.get("tool_call_id"):
            function = call.get("function") or {}
            action = action_from_tool_call(function.get("name"), function.get("arguments"))
            thought = str((message or {}).get("content") or "") if number == 0 else ""
            return action, thought.strip()
    return None


def _from_type(kind: str, args: dict) -> Action:
    """The action of an event recorded without its tool call (older runs)."""
    text = {key: value for key, value in args.items() if isinstance(value, (str, int)) and key != "thought"}
    if kind == "run":
        return Action("bash", {"command": str(args.get("command", ""))})
    if kind == "finish":
        return Action("submit")
    if kind == "edit" and args.get("command") in EDITOR_COMMANDS:
        keep = ("command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range")
        return Action("str_replace_editor", {k: args[k] for k in keep if args.get(k) not in (None, "")})
    if kind == "read" and isinstance(args.get("path"), str) and args.get("impl_source") == "oh_aci":
        view: dict[str, ArgValue] = {"command": "view", "path": args["path"]}
        if isinstance(args.get("view_range"), list):
            view["view_range"] = args["view_range"]
        return Action("str_replace_editor", view)
    if kind == "run_ipython":  # the code is all the model wrote; the kernel's set-up is the harness's
        return Action("execute_ipython_cell", {"code": str(args.get("code", ""))})
    if kind == "browse_interactive":
        return Action("browser", {"code": str(args.get("browser_actions", ""))})
    return Action(kind, {k: v for k, v in text.items() if k not in _HARNESS_FIELDS})


def observation_text(event: dict) -> str:
    """What OpenHands showed the model for an observation event."""
    content = str(event.get("content") or "")
    extras = _extras(event)
    metadata = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else None
    if event.get("observation") != "run" or metadata is None:
        return content
    text = f"{metadata.get('prefix') or ''}{content}{metadata.get('suffix') or ''}"
    if metadata.get("working_dir"):
        text += f"\n[Current working directory: {metadata['working_dir']}]"
    if metadata.get("py_interpreter_path"):
        text += f"\n[Python interpreter: {metadata['py_interpreter_path']}]"
    if metadata.get("exit_code", -1) != -1:
        text += f"\n[Command finished with exit code {metadata['exit_code']}]"
    return text


def _declared(event: dict) -> list[dict]:
    tools = _args(event).get("tools")
    return [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []


def events_to_steps(events: list[dict], where: Where) -> EventSteps:
    """The task, the steps (actions with their observations) and the other events of a stream."""
    out = EventSteps()
    by_id: dict[Any, Step] = {}
    waiting: list[Step] = []
    for index, event in enumerate(events):
        kind = event.get("action")
        if kind is not None:
            args = _args(event)
            if kind == "system":
                out.declared_tools = _declared(event)
            if kind == "message" and event.get("source", "user") == "user" and not out.task:
                out.task = str(args.get("content") or event.get("message") or "")
                continue
            if kind in _NOT_STEPS:
                out.skipped.append(
                    {"index": index, "action": kind, "content": str(args.get("content") or "")}
                )
                continue
            try:
                called = _tool_call(event)
            except ActionParseError as err:
                raise where.error(str(err), f"history[{index}].tool_call_metadata") from None
            action, thought = called if called else (_from_type(str(kind), args), "")
            thought = thought or str(args.get("thought") or "").strip()
            step = Step(thought, action, "", raw_action=json.dumps(args, ensure_ascii=False, default=str))
            out.steps.append(step)
            waiting.append(step)
            if event.get("id") is not None:
                by_id[event["id"]] = step
        elif "observation" in event:
            step = by_id.pop(event.get("cause"), None) if event.get("cause") is not None else None
            if (
                step is None
                and waiting
                and event.get("observation") not in ("agent_state_changed", "recall", "null")
            ):
                step = waiting[0]
            if step is not None and step in waiting:
                waiting.remove(step)
                step.observation = observation_text(event)
    return out
