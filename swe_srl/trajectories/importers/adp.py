"""Agent Data Protocol's standardized trajectories (``neulab/agent-data-protocol``).

A trajectory is ``{"id", "content": [...], "details": {...}}``; ``content`` alternates actions and
observations, each tagged by ``class_``:

- ``text_observation`` (``content``, ``source``: user / agent / environment): the first ones from
  the user are the task, later ones answer the action before them;
- ``code_action`` (``language``, ``content``, ``description``): ``bash`` code is a bash call; code in
  another language is a call of a tool named for it (``execute_python``), its ``content`` the code;
- ``api_action`` (``function``, ``kwargs``, ``description``): a tool call. ADP's converters keep a
  shell command's quoting in string arguments (``"\\"image.py\\""``); one pair of surrounding
  double quotes is removed, as the shell did. SWE-agent and OpenHands tool names then get the same
  treatment as those importers give them (translations, ``execute_bash`` -> ``bash``);
- ``message_action`` (``content``): a message, not a step (kept in ``metadata["skipped_turns"]``).

``description`` is the step's thought. SWE-agent observations lose their trailing state lines.
"""

from __future__ import annotations

from typing import Any

from swe_srl.actions import ActionParseError, action_from_tool_call
from swe_srl.records import Action, ArgValue, Step, Trajectory
from swe_srl.trajectories.importers.common import Where, extract_problem_statement, require, uploaded_folder
from swe_srl.trajectories.importers.legacy import finish_legacy
from swe_srl.trajectories.importers.openhands import openhands_action
from swe_srl.trajectories.importers.sweagent_rows import split_state

FORMAT = "adp"
_ACTIONS = ("api_action", "code_action", "message_action")


def is_adp(data: Any) -> bool:
    content = data.get("content") if isinstance(data, dict) else None
    return isinstance(content, list) and any(isinstance(item, dict) and "class_" in item for item in content)


def _unquoted(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _action(item: dict, where: Where, field: str) -> Action:
    kind = item.get("class_")
    if kind == "code_action":
        language = str(item.get("language") or "bash")
        code = item.get("content")
        if not isinstance(code, str):
            raise where.error("expected a string", f"{field}.content")
        if language in ("bash", "sh", "shell"):
            return Action("bash", {"command": code})
        return Action(f"execute_{language}", {"code": code})
    kwargs = item.get("kwargs") if item.get("kwargs") is not None else {}
    if not isinstance(kwargs, dict):
        raise where.error("expected an object", f"{field}.kwargs")
    args: dict[str, ArgValue] = {key: _unquoted(value) for key, value in kwargs.items()}
    try:
        action = action_from_tool_call(item.get("function"), args)
    except ActionParseError as err:
        raise where.error(str(err), f"{field}.function") from None
    return openhands_action(action)


def _walk(content: list, where: Where) -> tuple[str, list[Step], list[str | None], list[dict]]:
    task: list[str] = []
    steps: list[Step] = []
    workdirs: list[str | None] = []
    skipped: list[dict] = []
    cwd: str | None = None
    pending: Step | None = None
    for index, item in enumerate(content):
        field = f"content[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("class_"), str):
            raise where.error("expected an object with a 'class_'", field)
        kind = item["class_"]
        text = item.get("content") if isinstance(item.get("content"), str) else ""
        if kind.endswith("observation"):
            if not steps and not skipped:
                body, cwd = split_state(text)
                task.append(body)
            elif pending is not None:
                pending.observation, now = split_state(text)
                cwd = now or cwd
                pending = None
        elif kind == "message_action":
            skipped.append({"index": index, "role": "assistant", "content": text, "reason": "message"})
            pending = None
        elif kind in _ACTIONS:
            thought = str(item.get("description") or "").strip()
            pending = Step(
                thought, _action(item, where, field), "", raw_action=str(item.get("content") or "")
            )
            steps.append(pending)
            workdirs.append(cwd)
        else:
            raise where.error(f"unknown class_ {kind!r}", f"{field}.class_")
    return "\n\n".join(task), steps, workdirs, skipped


def import_adp(data: Any, where: Where) -> Trajectory:
    """One ADP standardized trajectory as a trajectory."""
    content = require(data, "content", list, where)
    task, steps, workdirs, skipped = _walk(content, where)
    # Only the tools the expert used are offered: ADP keeps no documentation of the others.
    steps, extra = finish_legacy(steps, workdirs, {}, created_text="\n")
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    trajectory_id = str(data.get("id") or where.default_id)
    instance_id = str(details.get("instance_id") or trajectory_id)
    metadata: dict[str, Any] = {"trajectory_id": trajectory_id, "details": details, **extra}
    if "workdir" not in metadata and uploaded_folder(task):
        metadata["workdir"] = uploaded_folder(task)
    if skipped:
        metadata["skipped_turns"] = skipped
    resolved = details.get("resolved", details.get("target"))
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT,
        model=str(details.get("model_name") or details.get("model") or ""),
        problem_statement=extract_problem_statement(task),
        steps=steps,
        final_patch=str(details.get("generated_patch") or details.get("git_patch") or ""),
        resolved=resolved if isinstance(resolved, bool) else None,
        metadata=metadata,
    )
