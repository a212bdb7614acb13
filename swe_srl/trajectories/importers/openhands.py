"""OpenHands runs: ``output.jsonl`` rows, exported event streams, and SWE-Gym's training rows.

- ``output.jsonl`` (OpenHands' evaluation output): one row per instance with ``instance_id``,
  ``instruction``, ``history`` (events, any generation: ``openhands_events``), ``test_result``
  (``git_patch``), ``metadata`` and often ``instance`` (the task, with its ``problem_statement``).
  The resolver's rows carry the GitHub ``issue`` instead (``owner``, ``repo``, ``number``,
  ``title``, ``body``): the task is its title and body, its id ``owner__repo-number`` as in SWE-bench.
- An exported event stream: a JSON array of events, or ``{"events": [...]}``.
- SWE-Gym's SFT rows (``OpenHands-SFT-Trajectories``): chat messages written by OpenHands' prompt
  for models without function calling: the assistant ends in ``<function=NAME>`` with one
  ``<parameter=ARG>`` block per argument (values trimmed, as OpenHands reads them), the reply is a
  user message ``EXECUTION RESULT of [NAME]:``.

OpenHands' tool names become ours where they mean the same (``openhands_action``):
``execute_bash`` -> ``bash`` (its ``timeout`` and a false ``is_input`` change nothing about the
command), ``finish`` -> ``submit`` (its message kept in the step's raw action); others (``think``,
``execute_ipython_cell``, ``browser``) stay tools of their own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from swe_srl.actions import ActionParseError, coerce_args
from swe_srl.records import Action, ArgValue, Step, Trajectory
from swe_srl.tools.legacy import spec_from_openai_tool, spec_to_dict
from swe_srl.tools.schema import ToolSpec
from swe_srl.trajectories.importers.common import (
    Where,
    content_text,
    extract_problem_statement,
    messages_of,
    uploaded_folder,
)
from swe_srl.trajectories.importers.legacy import canonical_steps, extra_tools
from swe_srl.trajectories.importers.openhands_events import events_to_steps, flatten, is_event

FORMAT = "openhands"
FORMAT_SFT = "openhands-sft"
_RESULT = re.compile(r"^EXECUTION RESULT of \[(?P<tool>[^\]]+)\]:\n?", re.S)
_FUNCTION = re.compile(r"<function=(?P<name>[^>\n]+)>\n?(?P<body>.*?)</function>", re.S)
_PARAM = re.compile(r"<parameter=(?P<name>[^>\n]+)>(?P<value>.*?)</parameter>", re.S)


def openhands_action(action: Action) -> Action:
    """An OpenHands tool call in our tool names where the meaning is the same."""
    args = dict(action.args)
    if action.tool in ("execute_bash", "bash") and "command" in args:
        for name, harmless in (("timeout", None), ("is_input", "false"), ("security_risk", None)):
            if name in args and (harmless is None or str(args[name]).lower() == harmless):
                args.pop(name)
        return Action("bash", args) if set(args) == {"command"} else action
    if action.tool == "finish":
        return Action("submit")
    if action.tool == "str_replace_editor":
        args.pop("security_risk", None)
        return Action("str_replace_editor", args)
    return action


def is_output_row(data: Any) -> bool:
    history = data.get("history") if isinstance(data, dict) else None
    return (
        isinstance(history, list)
        and "trajectory" not in data
        and any(is_event(item) or isinstance(item, list) for item in history)
    )


def is_event_stream(data: Any) -> bool:
    events = data.get("events") if isinstance(data, dict) else data
    return isinstance(events, list) and bool(events) and all(is_event(item) for item in events)


def finish_openhands(
    steps: list[Step], declared: list[dict], metadata: dict[str, Any]
) -> tuple[list[Step], dict[str, Any]]:
    """Our tool names, canonical observations, and the non-standard tools used (declared ones described)."""
    steps = canonical_steps([_renamed(step) for step in steps])
    specs: dict[str, ToolSpec] = {}
    for schema in declared:
        if isinstance(schema, str):  # dataset rows often keep each tool schema as JSON text
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError:
                continue
        spec = spec_from_openai_tool(schema) if isinstance(schema, dict) else None
        if spec is not None:
            specs[spec.name] = spec
    extras = extra_tools(steps, {k: v for k, v in specs.items() if k not in ("execute_bash", "finish")})
    used = {step.action.tool for step in steps}
    extras = [spec for spec in extras if spec.name in used]
    if extras:
        metadata["extra_tools"] = [spec_to_dict(spec) for spec in extras]
    return steps, metadata


def _renamed(step: Step) -> Step:
    step.action = openhands_action(step.action)
    return step


def _issue(row: dict[str, Any]) -> dict[str, str]:
    """The GitHub issue a resolver row worked on: its SWE-bench-style id and its text (title, body)."""
    issue = row.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("body"), str):
        return {}
    title = str(issue.get("title") or "")
    found = {"text": f"{title}\n{issue['body']}" if title else issue["body"]}
    if all(issue.get(key) not in (None, "") for key in ("owner", "repo", "number")):
        found["id"] = f"{issue['owner']}__{issue['repo']}-{issue['number']}"
    return found


def import_openhands_output(data: Any, where: Where) -> Trajectory:
    """One ``output.jsonl`` row (or an exported event stream) as a trajectory."""
    history = data.get("history") if isinstance(data, dict) and "history" in data else None
    if history is None:
        history = data.get("events") if isinstance(data, dict) else data
    parsed = events_to_steps(flatten(history, where), where)
    row = data if isinstance(data, dict) else {}
    instance = row.get("instance") if isinstance(row.get("instance"), dict) else {}
    issue = _issue(row)
    prompt = str(row.get("instruction") or parsed.task)
    task = str(instance.get("problem_statement") or issue.get("text") or "") or extract_problem_statement(
        prompt
    )
    instance_id = str(
        row.get("instance_id") or instance.get("instance_id") or issue.get("id") or where.default_id
    )
    result = row.get("test_result") if isinstance(row.get("test_result"), dict) else {}
    metadata: dict[str, Any] = {"trajectory_id": f"{instance_id}@{where.default_id}"}
    if parsed.skipped:
        metadata["skipped_events"] = parsed.skipped
    for key in ("metadata", "metrics", "error"):
        if row.get(key) is not None:
            metadata[key] = row[key]
    if uploaded_folder(prompt):
        metadata["workdir"] = uploaded_folder(prompt)
    steps, metadata = finish_openhands(parsed.steps, parsed.declared_tools, metadata)
    run = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    llm = run.get("llm_config") if isinstance(run.get("llm_config"), dict) else {}
    resolved = result.get("resolved", row.get("resolved"))
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT,
        model=str(llm.get("model") or ""),
        problem_statement=task,
        steps=steps,
        final_patch=str(result.get("git_patch") or row.get("git_patch") or ""),
        resolved=resolved if isinstance(resolved, bool) else None,
        metadata=metadata,
    )


def is_sft_row(data: Any) -> bool:
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list):
        return False
    texts = [
        content_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"
    ]
    return any(_RESULT.match(text) for text in texts)


def _sft_action(text: str) -> tuple[str, Action, str] | None:
    """(thought, action, raw call) of an assistant turn in OpenHands' text function-call format."""
    calls = list(_FUNCTION.finditer(text))
    if len(calls) != 1:
        return None
    call = calls[0]
    args: dict[str, ArgValue] = {
        m.group("name").strip(): m.group("value").strip() for m in _PARAM.finditer(call.group("body"))
    }
    name = call.group("name").strip()
    return (
        text[: call.start()].strip(),
        openhands_action(Action(name, coerce_args(name, args))),
        call.group(0),
    )


def import_openhands_sft(data: Any, where: Where) -> Trajectory:
    """A SWE-Gym SFT row (OpenHands' text function calls) as a trajectory."""
    messages = messages_of(data, where)
    steps: list[Step] = []
    skipped: list[dict] = []
    task, pending = "", None
    for index, message in enumerate(messages):
        role, text = message["role"], content_text(message.get("content"))
        if role == "user" and not task and not _RESULT.match(text):
            task = text
        elif role == "assistant":
            try:
                parsed = _sft_action(text)
            except ActionParseError:
                parsed = None
            if parsed is None:
                skipped.append(
                    {"index": index, "role": role, "content": text, "reason": "not one function call"}
                )
                pending = None
                continue
            pending = Step(parsed[0], parsed[1], "", raw_action=parsed[2])
            steps.append(pending)
        elif role in ("user", "tool") and pending is not None:
            pending.observation = _RESULT.sub("", text, count=1)
            pending = None
    row = data if isinstance(data, dict) else {}
    instance_id = str(row.get("instance_id") or row.get("id") or where.default_id)
    metadata: dict[str, Any] = {"trajectory_id": f"{instance_id}@{where.default_id}"}
    if skipped:
        metadata["skipped_turns"] = skipped
    if uploaded_folder(task):
        metadata["workdir"] = uploaded_folder(task)
    steps, metadata = finish_openhands(steps, list(row.get("tools") or []), metadata)
    resolved = row.get("resolved")
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT_SFT,
        model=str(row.get("model") or ""),
        problem_statement=extract_problem_statement(task),
        steps=steps,
        final_patch=str(row.get("git_patch") or row.get("patch") or ""),
        resolved=resolved if isinstance(resolved, bool) else None,
        metadata=metadata,
    )
