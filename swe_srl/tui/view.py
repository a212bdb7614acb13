"""What the replay screen shows, computed from trajectory records alone (no IO, no UI).

The Textual app and the ``--print`` renderer both read these rows, so the interactive and the
non-interactive views can never disagree.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from swe_srl.actions import render_action
from swe_srl.records import Action, Step, Trajectory
from swe_srl.reward import similarity

SHORT_ACTION_WIDTH = 60


@dataclass(frozen=True)
class StepRow:
    """One line of the step list."""

    index: int
    tool: str
    short_action: str
    reward: float | None


@dataclass(frozen=True)
class ComparedStep:
    """Expert step k beside student step k, with the SRL similarity of their actions."""

    index: int
    expert: Step | None
    student: Step | None
    similarity: float | None


def short_action(action: Action, width: int = SHORT_ACTION_WIDTH) -> str:
    """A one-line summary of an action: the tool's main argument, whitespace collapsed."""
    if action.tool == "str_replace_editor":
        text = f"{action.args.get('command', '')} {action.args.get('path', '')}"
    elif action.tool == "submit":
        text = "submit"
    else:
        text = str(action.args.get("command", "")) or " ".join(str(v) for v in action.args.values())
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def step_rows(trajectory: Trajectory) -> list[StepRow]:
    return [
        StepRow(index=i, tool=step.action.tool, short_action=short_action(step.action), reward=step.reward)
        for i, step in enumerate(trajectory.steps)
    ]


def edit_diff(action: Action) -> str | None:
    """Edits are easier to read as diffs: a unified diff for str_replace/create/insert, else None."""
    if action.tool != "str_replace_editor":
        return None
    command = action.args.get("command")
    path = str(action.args.get("path", ""))
    if command == "str_replace":
        old = str(action.args.get("old_str", "")).splitlines(keepends=True)
        new = str(action.args.get("new_str", "")).splitlines(keepends=True)
    elif command == "create":
        old, new = [], str(action.args.get("file_text", "")).splitlines(keepends=True)
    elif command == "insert":
        old = []
        new = str(action.args.get("new_str", "")).splitlines(keepends=True)
        path = f"{path} (after line {action.args.get('insert_line')})"
    else:
        return None
    lines = difflib.unified_diff(old, new, fromfile=f"a{path}", tofile=f"b{path}", lineterm="")
    return "\n".join(line.rstrip("\n") for line in lines)


def compare(expert: Trajectory, student: Trajectory) -> list[ComparedStep]:
    """Pair steps by position; the similarity is the SRL reward of the student's action."""
    rows = []
    for k in range(max(len(expert.steps), len(student.steps))):
        e = expert.steps[k] if k < len(expert.steps) else None
        s = student.steps[k] if k < len(student.steps) else None
        sim = similarity(render_action(s.action), render_action(e.action)) if e and s else None
        rows.append(ComparedStep(index=k, expert=e, student=s, similarity=sim))
    return rows


def search(trajectory: Trajectory, query: str, start: int = 0) -> int | None:
    """Index of the first step at or after ``start`` (wrapping) whose text contains ``query``."""
    needle = query.lower()
    n = len(trajectory.steps)
    for offset in range(n):
        k = (start + offset) % n
        step = trajectory.steps[k]
        haystack = "\n".join((step.thought, render_action(step.action), step.observation)).lower()
        if needle in haystack:
            return k
    return None
