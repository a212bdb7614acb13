"""What the replay screens show, computed from trajectory records alone (no IO, no UI).

The Textual app and the ``--print`` renderer both read these rows, so the interactive and the
non-interactive views can never disagree.

A compared pair is aligned by position: row k holds the reference's k-th step and the candidate's
k-th step (the SRL instance k asks the student for the expert's k-th action), and the rows run
to the longer trajectory's length, with an empty side where one trajectory has already ended.
"""

from __future__ import annotations

import difflib
import statistics
from dataclasses import dataclass

from swe_srl.actions import FormatError, parse_strict, render_action
from swe_srl.env import PARSE_ERROR_TOOL
from swe_srl.episode import SOURCE_FORMAT
from swe_srl.records import Action, Step, Trajectory
from swe_srl.reward import FORMAT_PENALTY, similarity

SHORT_ACTION_WIDTH = 60
TESTBED_PREFIX = "/testbed/"


def is_format_error(step: Step) -> bool:
    """A reply the environment could not read as an action (recorded with no usable tool)."""
    return step.action.tool in (PARSE_ERROR_TOOL, "")


def tool_label(step: Step) -> str:
    """The step's kind in a word: the editor's sub-command for editor calls, else the tool name."""
    if is_format_error(step):
        return "format error"
    if step.action.tool == "str_replace_editor":
        return str(step.action.args.get("command") or "editor")
    return step.action.tool


def one_line(text: str, width: int = SHORT_ACTION_WIDTH) -> str:
    """``text`` with whitespace collapsed, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def short_action(action: Action, width: int = SHORT_ACTION_WIDTH) -> str:
    """A one-line summary of an action: the tool's main argument, whitespace collapsed."""
    if action.tool == "str_replace_editor":
        text = f"{action.args.get('command', '')} {action.args.get('path', '')}"
    elif action.tool == "submit":
        text = "submit"
    else:
        text = str(action.args.get("command", "")) or " ".join(str(v) for v in action.args.values())
    return one_line(text, width)


def step_summary(step: Step, width: int = SHORT_ACTION_WIDTH) -> str:
    """What the step list shows after the tool label: the command, the edited path, or the raw reply."""
    if is_format_error(step):
        return one_line(step.raw_action or "(empty reply)", width)
    if step.action.tool == "str_replace_editor":
        return one_line(str(step.action.args.get("path", "")).removeprefix(TESTBED_PREFIX), width)
    if step.action.tool == "submit":
        return ""
    return short_action(step.action, width)


@dataclass(frozen=True)
class StepRow:
    """One line of the step list, with the markers a person scans for."""

    index: int
    tool: str
    short_action: str
    reward: float | None
    format_error: bool = False
    exit_code: int | None = None

    @property
    def failed(self) -> bool:
        """A command that ran and exited non-zero."""
        return self.exit_code not in (None, 0)


def step_row(index: int, step: Step, reward: float | None = None) -> StepRow:
    return StepRow(
        index=index,
        tool=tool_label(step),
        short_action=step_summary(step),
        reward=step.reward if reward is None else reward,
        format_error=is_format_error(step),
        exit_code=step.exit_code,
    )


def step_rows(trajectory: Trajectory) -> list[StepRow]:
    return [step_row(i, step) for i, step in enumerate(trajectory.steps)]


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


# --------------------------------------------------------------------------------------------
# Comparing two trajectories of one task


@dataclass(frozen=True)
class Side:
    """One trajectory of a comparison and the name it is shown under ("expert", "student", ...)."""

    label: str
    trajectory: Trajectory

    @property
    def model(self) -> str:
        """The policy spec of a run, else the model the source names."""
        return str(self.trajectory.metadata.get("policy") or self.trajectory.model or "")

    @property
    def title(self) -> str:
        return f"{self.label} · {self.model}" if self.model and self.model != self.label else self.label


@dataclass(frozen=True)
class ComparedStep:
    """Reference step k beside candidate step k.

    ``similarity`` is ``2M/T`` between the two canonical action texts (None when a side has no
    readable action); ``reward`` is the SRL reward of the candidate's reply against the reference's
    action: -1 when the reply breaks the format, else the similarity. ``problem`` says why the
    format is broken.
    """

    index: int
    reference: Step | None
    candidate: Step | None
    similarity: float | None
    reward: float | None
    problem: str = ""


@dataclass(frozen=True)
class Comparison:
    """Two trajectories of one task, aligned step by step."""

    reference: Side
    candidate: Side
    rows: tuple[ComparedStep, ...]
    note: str = ""  # how the roles were decided, when it was not certain

    @property
    def mean_reward(self) -> float | None:
        scored = [r.reward for r in self.rows if r.reward is not None]
        return statistics.fmean(scored) if scored else None

    @property
    def scored_steps(self) -> int:
        return sum(r.reward is not None for r in self.rows)


def format_problem(step: Step, trajectory: Trajectory) -> str:
    """Why the SRL reward's format check rejects this step's reply ("" when it passes).

    A reply the environment could not read is always a format error. For a policy's run through
    ``SweEnv`` the stored reply is the model's own text, which the SRL format check reads as the
    reward would. Imported trajectories store their source's raw text, which is not in the SRL
    reply format, so only their parsed action counts.
    """
    if is_format_error(step):  # the environment's message; its first sentence names the problem
        return one_line(step.observation.split(". ")[0], 120) or "the reply held no action"
    if trajectory.source_format != SOURCE_FORMAT or not step.raw_action:
        return ""
    try:
        parse_strict(step.raw_action)
    except FormatError as err:
        return str(err)
    return ""


def compare_step(index: int, reference: Side, candidate: Side) -> ComparedStep:
    steps_r, steps_c = reference.trajectory.steps, candidate.trajectory.steps
    ref = steps_r[index] if index < len(steps_r) else None
    cand = steps_c[index] if index < len(steps_c) else None
    if ref is None or cand is None or is_format_error(ref):
        problem = format_problem(cand, candidate.trajectory) if cand is not None else ""
        reward = FORMAT_PENALTY if problem and ref is not None else None
        return ComparedStep(index, ref, cand, None, reward, problem)
    problem = format_problem(cand, candidate.trajectory)
    sim = None if is_format_error(cand) else similarity(render_action(cand.action), render_action(ref.action))
    return ComparedStep(index, ref, cand, sim, FORMAT_PENALTY if problem else sim, problem)


def compare(reference: Side, candidate: Side, note: str = "") -> Comparison:
    """Pair the steps by position over the longer trajectory."""
    length = max(len(reference.trajectory.steps), len(candidate.trajectory.steps))
    rows = tuple(compare_step(k, reference, candidate) for k in range(length))
    return Comparison(reference, candidate, rows, note)


# --------------------------------------------------------------------------------------------
# Search


def step_text(step: Step) -> str:
    """Everything a search looks in: monologue, action (or the raw reply), observation."""
    action = step.raw_action if is_format_error(step) else render_action(step.action)
    return "\n".join((step.thought, action, step.observation))


def matching_steps(steps: list[Step | None], query: str) -> list[int]:
    """Indices of the steps whose text contains ``query`` (case-insensitive), in order."""
    needle = query.lower()
    if not needle:
        return []
    return [k for k, step in enumerate(steps) if step is not None and needle in step_text(step).lower()]


def search(trajectory: Trajectory, query: str, start: int = 0) -> int | None:
    """Index of the first step at or after ``start`` (wrapping) whose text contains ``query``."""
    matches = matching_steps(list(trajectory.steps), query)
    following = [k for k in matches if k >= start]
    return (following or matches or [None])[0]


def match_position(matches: list[int], index: int) -> int:
    """1-based position of ``index`` among ``matches`` (0 when it is not a match)."""
    return matches.index(index) + 1 if index in matches else 0
