"""SWE-agent 0.x trajectories as dataset rows (``nebius/SWE-agent-trajectories``, 80,036 rows).

One row per trajectory, in parquet shards: ``instance_id``, ``model_name``, ``target`` (whether the
patch resolved the issue), ``trajectory`` (a list of ``{role, text, system_prompt, mask,
cutoff_date}``), ``exit_status``, ``generated_patch``, ``eval_logs``. The list is the chat SWE-agent
0.x held: a ``system`` entry (the prompt with the COMMANDS documentation in ``system_prompt``), the
``user`` task, then ``ai`` turns (discussion, then the command in the last fenced block) each
answered by a ``user`` observation that ends in SWE-agent's state lines
``(Open file: ...)``/``(Current directory: ...)``/``bash-$``. Those lines are the prompt, not output:
they are cut off, and the directory they name is the working directory of the next command.
"""

from __future__ import annotations

import re
from typing import Any

from swe_srl.records import Step, Trajectory
from swe_srl.tools.legacy import LEGACY_TOOLS, specs_from_docs
from swe_srl.trajectories.importers.common import Where, extract_problem_statement, require
from swe_srl.trajectories.importers.legacy import finish_legacy
from swe_srl.trajectories.importers.sweagent_commands import parse_command_line

FORMAT = "swe-agent-rows"
_STATE = re.compile(r"\n*\(Open file: [^\n]*\)\n\(Current directory: (?P<cwd>[^\n]*)\)\n(?:bash-\$)?\s*$")
_FENCE = re.compile(r"^```[^\n`]*[ \t]*$", re.MULTILINE)


def is_sweagent_rows(data: Any) -> bool:
    items = data.get("trajectory") if isinstance(data, dict) else None
    return (
        isinstance(items, list)
        and "history" not in data
        and any(isinstance(item, dict) and item.get("role") == "ai" for item in items)
    )


def split_state(text: str) -> tuple[str, str | None]:
    """(the observation without SWE-agent's trailing state lines, the current directory they name)."""
    match = _STATE.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group("cwd")


def split_command(text: str) -> tuple[str, str] | None:
    """(discussion, command) of a 0.x reply: the command is the last fenced block, as SWE-agent read it."""
    fences = list(_FENCE.finditer(text))
    if len(fences) < 2:
        return None
    opening, closing = fences[-2], fences[-1]
    command = text[opening.end() + 1 : closing.start()]
    thought = text[: opening.start()] + text[closing.end() :]
    return thought.strip(), command


def _text(item: dict, where: Where, index: int) -> str:
    text = item.get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise where.error(f"expected a string, got {type(text).__name__}", f"trajectory[{index}].text")
    return text


def _walk(items: list, where: Where) -> tuple[str, str, list[Step], list[str | None], list[dict]]:
    """(system prompt, task, steps, working directories, turns that are no step)."""
    system, task = "", None
    steps: list[Step] = []
    workdirs: list[str | None] = []
    skipped: list[dict] = []
    cwd: str | None = None
    pending: Step | None = None
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise where.error("expected an object", f"trajectory[{index}]")
        role, text = item.get("role"), _text(item, where, index)
        if role == "system":
            system = str(item.get("system_prompt") or text)
        elif role == "user" and task is None:
            task, cwd = split_state(text)
        elif role == "ai":
            parsed = split_command(text)
            if parsed is None:
                skipped.append({"index": index, "role": role, "content": text, "reason": "no command block"})
                pending = None
                continue
            pending = Step(parsed[0], parse_command_line(parsed[1], _specs(system)), "", raw_action=parsed[1])
            steps.append(pending)
            workdirs.append(cwd)
        elif role == "user" and pending is not None:
            pending.observation, cwd = split_state(text)
            cwd = cwd or workdirs[-1]
            pending = None
        elif role == "user":
            skipped.append({"index": index, "role": role, "content": text, "reason": "reply to no command"})
    return system, task or "", steps, workdirs, skipped


_SPECS_CACHE: dict[str, dict] = {}


def _specs(system: str) -> dict:
    """The commands the system prompt documents (cached: every row of a dataset repeats it)."""
    specs = _SPECS_CACHE.get(system)
    if specs is None:
        if len(_SPECS_CACHE) > 64:
            _SPECS_CACHE.clear()
        specs = _SPECS_CACHE[system] = specs_from_docs(system) or dict(LEGACY_TOOLS)
    return specs


def import_sweagent_rows(data: Any, where: Where) -> Trajectory:
    """One row of an 80k-style SWE-agent trajectory dataset as a trajectory."""
    items = require(data, "trajectory", list, where)
    system, task, steps, workdirs, skipped = _walk(items, where)
    steps, extra = finish_legacy(steps, workdirs, _specs(system), created_text="\n")
    instance_id = str(data.get("instance_id") or where.default_id)
    model = str(data.get("model_name") or "")
    trajectory_id = (
        f"{instance_id}@{model}@{where.default_id}" if model else f"{instance_id}@{where.default_id}"
    )
    metadata: dict[str, Any] = {
        "trajectory_id": trajectory_id,
        "exit_status": data.get("exit_status"),
        **extra,
    }
    if data.get("eval_logs"):
        metadata["eval_logs"] = data["eval_logs"]
    if skipped:
        metadata["skipped_turns"] = skipped
    resolved = data.get("target")
    return Trajectory(
        instance_id=instance_id,
        source_format=FORMAT,
        model=model,
        problem_statement=extract_problem_statement(task),
        steps=steps,
        final_patch=str(data.get("generated_patch") or ""),
        resolved=resolved if isinstance(resolved, bool) else None,
        metadata=metadata,
    )
