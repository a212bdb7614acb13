"""mini-swe-agent trajectories (``*.traj.json``): bash-only agents.

Older files are a bare list of chat messages; newer ones are ``{"info": ..., "messages": [...],
"trajectory_format": "mini-swe-agent-1"}``, with the task's ``instance_id`` beside them when its
SWE-bench runner wrote the file. Version 2 (``mini-swe-agent-1.1``) calls a ``bash``
tool natively: assistant messages carry ``tool_calls`` (``{"command": ...}``) answered by
``role: tool`` messages with the same ``tool_call_id``; the text-based format is still written by
its text-parsing models. Each assistant turn holds exactly one fenced block
(````` ```mswea_bash_command ````` or, before that, ````` ```bash `````); the next user turn is the
command's output (``<returncode>..</returncode><output>..</output>``, kept verbatim). The command
is taken with mini-swe-agent's own action regex, so the action is exactly what it executed.
"""

from __future__ import annotations

import re
from typing import Any

from swe_srl.actions import ActionParseError, action_from_tool_call
from swe_srl.records import Action, Step, Trajectory
from swe_srl.tools.observation import canonical_observation
from swe_srl.trajectories.importers.common import Where, content_text, extract_problem_statement, messages_of

FORMAT = "mini-swe-agent"
_ACTION = re.compile(r"```(?:mswea_bash_command|bash)\s*\n(.*?)\n```", re.DOTALL)
_OPENING = re.compile(r"(?:```[\w-]*|<[\w-]+>)\s*$")  # the fence or tag a command was written in
_ACTION_TAG = re.compile(r"<mswea_bash_command>(.*?)</mswea_bash_command>", re.DOTALL)  # swebench_xml.yaml
_TASK = re.compile(r"Please solve this issue: (.*?)\n\nYou can execute bash commands", re.DOTALL)
_SUBMIT_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")


def is_mini(data: Any) -> bool:
    """A mini-swe-agent transcript: its format tag, or assistant turns with fenced bash and no XML calls."""
    if isinstance(data, dict) and str(data.get("trajectory_format", "")).startswith("mini-swe-agent"):
        return True
    messages = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(messages, list):
        return False
    texts = [
        content_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "assistant" and not m.get("tool_calls")
    ]
    return (
        bool(texts)
        and any("```mswea_bash_command" in t or "```bash" in t or "<mswea_bash_command>" in t for t in texts)
        and not any("<function=" in t for t in texts)
    )


def _problem(task_message: str) -> str:
    match = _TASK.search(task_message)
    return match.group(1) if match else extract_problem_statement(task_message)


def _executed(message: dict) -> list[str] | None:
    """The commands mini-swe-agent 2.x ran for this message (``extra.actions``), or None if unrecorded."""
    extra = message.get("extra")
    actions = extra.get("actions") if isinstance(extra, dict) else None
    if not isinstance(actions, list) or not actions:
        return None
    commands = [a.get("command") for a in actions if isinstance(a, dict)]
    return [c for c in commands if isinstance(c, str)] if len(commands) == len(actions) else None


def _step(text: str, message: dict) -> Step | None:
    blocks = list(_ACTION.finditer(text)) or list(_ACTION_TAG.finditer(text))
    executed = _executed(message)
    if executed is not None and len(executed) != 1:
        return None  # the text format runs exactly one command a turn
    if executed is None and len(blocks) != 1:
        return None  # mini-swe-agent rejects such a turn with a format error, so nothing ran
    block = blocks[0] if len(blocks) == 1 else None
    command = executed[0].strip() if executed is not None else block.group(1).strip()
    if block is not None:
        outside = (text[: block.start()], text[block.end() :])
    else:  # a command written some other way: the thought is the text before it, less its opening
        cut = text.rfind(command)
        outside = (_OPENING.sub("", text[:cut]),) if cut >= 0 else (text,)
    thought = "\n\n".join(part.strip() for part in outside if part.strip())
    return Step(
        thought=thought,
        action=Action("bash", {"command": command}),
        observation="",
        raw_action=block.group(0) if block is not None else command,
    )


def _call_steps(message: dict, text: str, where: Where, index: int) -> list[tuple[str, Step]]:
    """(tool call id, step) of each bash tool call of a 1.1-format (tool-calling) assistant message."""
    out = []
    for number, call in enumerate(message["tool_calls"]):
        function = call.get("function") if isinstance(call, dict) else None
        field = f"messages[{index}].tool_calls[{number}]"
        if not isinstance(function, dict):
            raise where.error("tool call has no 'function' object", field)
        try:
            action = action_from_tool_call(function.get("name"), function.get("arguments"))
        except ActionParseError as err:
            raise where.error(str(err), f"{field}.function.arguments") from None
        raw = function.get("arguments")
        step = Step(
            text.strip() if number == 0 else "", action, "", raw_action=raw if isinstance(raw, str) else ""
        )
        out.append((str(call.get("id")), step))
    return out


def import_mini(data: Any, where: Where) -> Trajectory:
    """A mini-swe-agent trajectory as a trajectory."""
    messages = messages_of(data, where)
    row = data if isinstance(data, dict) else {}  # the runner saves the task's id at the top level
    info = row.get("info") if isinstance(row.get("info"), dict) else {}
    steps: list[Step] = []
    skipped: list[dict[str, Any]] = []
    pending: Step | None = None
    task: str | None = None
    last_output = ""
    by_call: dict[str, Step] = {}
    for index, message in enumerate(messages):
        text = content_text(message.get("content"))
        if message["role"] == "user" and task is None:
            task = text
        elif message["role"] == "assistant" and message.get("tool_calls"):
            calls = _call_steps(message, text, where, index)
            steps.extend(step for _, step in calls)
            by_call.update(calls)
            pending = None
        elif message["role"] == "tool" and str(message.get("tool_call_id")) in by_call:
            by_call.pop(str(message["tool_call_id"])).observation = canonical_observation(text)
            last_output = text
        elif message["role"] == "assistant":
            pending = _step(text, message)
            if pending is None:
                skipped.append(
                    {"index": index, "role": "assistant", "content": text, "reason": "not one command"}
                )
            else:
                steps.append(pending)
        elif message["role"] in ("user", "tool") and pending is not None:
            pending.observation = canonical_observation(text)
            last_output = text  # as printed: a submitted patch keeps its final newline
            pending = None
        elif message["role"] in ("user", "tool") and skipped and skipped[-1]["index"] == index - 1:
            skipped.append({"index": index, "role": message["role"], "content": text, "reason": "reply"})
    final_patch = str(info.get("submission") or "")
    if (
        not final_patch
        and steps
        and any(marker in steps[-1].action.args["command"] for marker in _SUBMIT_MARKERS)
    ):
        final_patch = last_output
    metadata: dict[str, Any] = {"trajectory_id": where.default_id, "info": info}
    if skipped:
        metadata["skipped_turns"] = skipped
    model = (info.get("config") or {}).get("model") or {} if isinstance(info.get("config"), dict) else {}
    return Trajectory(
        instance_id=str(row.get("instance_id") or info.get("instance_id") or where.default_id),
        source_format=FORMAT,
        model=str(model.get("model_name", "")) if isinstance(model, dict) else "",
        problem_statement=_problem(task or ""),
        steps=steps,
        final_patch=final_patch,
        resolved=None,
        metadata=metadata,
    )
