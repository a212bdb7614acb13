"""Scripted policies: deterministic agents for tests, baselines and replays.

- ``GoldPolicy``: turns the task's gold patch into editor calls (``create`` for new files,
  one ``str_replace`` per hunk, ``bash rm`` for deleted files), then submits. Scores 100% when the
  grader is right.
- ``NoopPolicy``: submits at once (an empty patch). Scores 0%.
- ``ReplayPolicy``: replays the actions of a recorded trajectory in order, then submits.

Each is built for one task (``swe_srl.policy.make_policy(spec, task)``) and reads only its step
count from the history, so the same object can be asked again after a reset.
"""

from __future__ import annotations

from pathlib import Path

from swe_srl.actions import render_action
from swe_srl.context import render_reply
from swe_srl.records import Action, RecordError, Step, Task, Trajectory
from swe_srl.sandbox.base import TESTBED

SUBMIT = Action(tool="submit", args={})


def _hunk_texts(hunk) -> tuple[str, str]:
    """(the hunk's old text, its new text): context plus removed lines, context plus added lines."""
    old: list[str] = []
    new: list[str] = []
    previous = None
    for line in hunk:
        if line.line_type == "\\":  # "\ No newline at end of file" belongs to the line before it
            if previous is not None and (previous.is_context or previous.is_removed):
                old[-1] = old[-1].removesuffix("\n")
            if previous is not None and (previous.is_context or previous.is_added):
                new[-1] = new[-1].removesuffix("\n")
            continue
        if line.is_context or line.is_removed:
            old.append(line.value)
        if line.is_context or line.is_added:
            new.append(line.value)
        previous = line
    return "".join(old), "".join(new)


def patch_to_actions(patch: str, *, source: str = "") -> list[Action]:
    """Editor actions that turn the base tree into the patched tree (text patches only)."""
    from unidiff import PatchSet

    try:
        files = PatchSet(patch)
    except Exception as err:
        raise RecordError(f"cannot parse the patch: {err}", source=source, field_name="patch") from None
    actions: list[Action] = []
    for pfile in files:
        path = f"{TESTBED}/{pfile.path}"
        if pfile.is_binary_file:
            raise RecordError(f"binary file {pfile.path} cannot be edited", source=source, field_name="patch")
        if pfile.is_removed_file:
            actions.append(Action("bash", {"command": f"rm -f -- '{path}'"}))
            continue
        if pfile.is_added_file:
            text = "".join(_hunk_texts(h)[1] for h in pfile)
            actions.append(
                Action("str_replace_editor", {"command": "create", "path": path, "file_text": text})
            )
            continue
        if pfile.is_rename:
            src = f"{TESTBED}/{pfile.source_file.removeprefix('a/')}"
            actions.append(Action("bash", {"command": f"mv -- '{src}' '{path}'"}))
        for hunk in pfile:
            old, new = _hunk_texts(hunk)
            actions.append(
                Action(
                    "str_replace_editor",
                    {"command": "str_replace", "path": path, "old_str": old, "new_str": new},
                )
            )
    return actions


class ScriptPolicy:
    """Plays a fixed list of actions (one per call, counted from the history), then submits."""

    def __init__(self, actions: list[Action], name: str = "script"):
        self.actions = list(actions)
        self.name = name

    def act(self, problem_statement: str, history: list[Step]) -> str:
        index = len(history)
        if index < len(self.actions):
            return render_reply(f"{self.name}: step {index + 1} of {len(self.actions)}", self.actions[index])
        return render_reply(f"{self.name}: done", SUBMIT)

    def oracle_answer(self, prompt: str) -> str:
        """Every editing action in one reply (the oracle setting's single answer)."""
        edits = [a for a in self.actions if a.tool == "str_replace_editor"]
        return "\n".join(render_action(a) for a in edits)


class GoldPolicy(ScriptPolicy):
    def __init__(self, task: Task):
        super().__init__(patch_to_actions(task.patch, source=task.instance_id), name="gold")


class NoopPolicy(ScriptPolicy):
    def __init__(self) -> None:
        super().__init__([], name="noop")


def load_replay(path: Path, instance_id: str) -> Trajectory:
    """The trajectory for ``instance_id`` in ``path`` (a file or a JSONL collection); the only one if one."""
    from swe_srl.trajectories.io import iter_trajectories

    found = list(iter_trajectories(path))
    if not found:
        raise RecordError("no trajectory in the file", source=str(path))
    for traj in found:
        if traj.instance_id == instance_id:
            return traj
    if len(found) == 1:
        return found[0]
    raise RecordError(f"no trajectory for instance {instance_id!r}", source=str(path))


class ReplayPolicy(ScriptPolicy):
    """Replays a trajectory's actions (its own ``submit`` included) in order."""

    def __init__(self, path: Path, task: Task):
        traj = load_replay(Path(path), task.instance_id)
        actions = [step.action for step in traj.steps if step.action.tool != "parse_error"]
        super().__init__(actions, name=f"replay:{Path(path).name}")
