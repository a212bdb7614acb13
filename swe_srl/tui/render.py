"""Rich renderables for trajectory steps, shared by the Textual app and ``replay --print``."""

from __future__ import annotations

import re

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from swe_srl.actions import render_action
from swe_srl.records import Step, Trajectory
from swe_srl.tui.loading import Entry, ReplaySource
from swe_srl.tui.view import ComparedStep, Comparison, Side, StepRow, edit_diff, is_format_error, step_rows

OBSERVATION_PREVIEW = 4000  # characters of an observation shown before a visible marker
COMPARE_PREVIEW = 1500  # per side in the comparison, where two observations share the screen
COMPARE_LINES = 12  # observation lines per side in the app's comparison (stacked: half)
HIGHLIGHT = "black on yellow"


def highlighted(text: str, query: str = "", style: str = "") -> Text:
    result = Text(text, style=style, overflow="fold")  # long unbroken replies wrap, never vanish
    if query:
        result.highlight_regex(re.compile(re.escape(query), re.IGNORECASE), HIGHLIGHT)
    return result


def action_renderable(step: Step, query: str = "") -> RenderableType:
    """Bash as bash, edits as diffs, a malformed reply as the model's raw text; plain text when searching."""
    if is_format_error(step):
        return highlighted(step.raw_action or "(empty reply)", query, "red")
    diff = edit_diff(step.action)
    text = diff or (
        str(step.action.args.get("command", "")) if step.action.tool == "bash" else render_action(step.action)
    )
    if query and query.lower() in text.lower():
        return highlighted(text, query)
    lexer = "diff" if diff else ("bash" if step.action.tool == "bash" else "xml")
    return Syntax(text, lexer, word_wrap=True, theme="ansi_dark")


def clip(text: str, limit: int = OBSERVATION_PREVIEW, query: str = "", max_lines: int | None = None) -> Text:
    """``text`` cut to ``limit`` characters (and ``max_lines`` lines), saying how much is hidden."""
    shown = text[:limit]
    if max_lines is not None and shown.count("\n") >= max_lines:
        shown = "\n".join(shown.split("\n")[:max_lines])
    if len(shown) == len(text):
        return highlighted(text, query)
    clipped = highlighted(shown, query)
    hidden_lines = text.count("\n") - shown.count("\n")
    more = f"{len(text) - len(shown)} more characters" + (
        f", {hidden_lines} more lines" if hidden_lines else ""
    )
    clipped.append(f"\n… [{more}]", style="bold yellow")
    return clipped


def reward_text(value: float | None) -> str:
    return "" if value is None else f"{value:+.3f}"


def markers(row: StepRow) -> Text:
    """What the step list shows between index and tool: format error, exit status."""
    if row.format_error:
        return Text("✗", style="bold red")
    if row.failed:
        return Text("!", style="bold yellow")
    return Text(" ")


def step_header(step: Step, index: int, total: int, reward: float | None = None) -> Text:
    header = Text(f"Step {index + 1}/{total}", style="bold")
    if is_format_error(step):
        header.append(" · format error (reward −1)", style="bold red")
    else:
        header.append(f" · {step.action.tool}")
    if step.exit_code not in (None, 0):
        header.append(f" · exit {step.exit_code}", style="bold yellow")
    value = step.reward if reward is None else reward
    if value is not None:
        header.append(f" · reward {value:.3f}")
    return header


def step_renderable(
    step: Step, index: int, total: int, *, full_observation: bool = False, query: str = ""
) -> RenderableType:
    observation = (
        highlighted(step.observation, query) if full_observation else clip(step.observation, query=query)
    )
    action_title = "reply (not a readable action)" if is_format_error(step) else "action"
    return Group(
        step_header(step, index, total),
        Panel(
            highlighted(step.thought or "(no monologue)", query, "italic"),
            title="monologue",
            border_style="blue",
        ),
        Panel(
            action_renderable(step, query),
            title=action_title,
            border_style="red" if is_format_error(step) else "green",
        ),
        Panel(observation, title="observation", border_style="white"),
    )


def _side_panel(
    side: Side, step: Step | None, style: str, query: str, limit: int, lines: int | None
) -> Panel:
    if step is None:
        ended = Text(f"(ended after {len(side.trajectory.steps)} steps)", style="dim")
        return Panel(ended, title=side.title, border_style=style)
    if is_format_error(step):  # a model's malformed reply can be pages long: clip it like an observation
        reply = clip(step.raw_action or "(empty reply)", limit, query, lines)
        reply.stylize("red")
        parts: list[RenderableType] = [reply]
    else:
        parts = [action_renderable(step, query)]
    if step.exit_code not in (None, 0):
        parts.append(Text(f"exit {step.exit_code}", style="bold yellow"))
    parts.append(Panel(clip(step.observation, limit, query, lines), title="observation", border_style="dim"))
    if is_format_error(step):
        return Panel(Group(*parts), title=f"{side.label}: format error · {side.model}", border_style="red")
    return Panel(Group(*parts), title=side.title, border_style=style)


def compared_header(row: ComparedStep, comparison: Comparison) -> Text:
    total = len(comparison.rows)
    header = Text(f"Step {row.index + 1}/{total}", style="bold")
    if row.reward is not None and row.problem:
        header.append(f" · SRL reward {row.reward:+.3f} (format: {row.problem})", style="bold red")
    elif row.reward is not None:
        header.append(f" · SRL reward (similarity) {row.reward:.3f}")
    else:
        missing = comparison.candidate if row.candidate is None else comparison.reference
        header.append(f" · SRL reward n/a ({missing.label} has no step {row.index + 1})", style="dim")
    if row.problem and row.similarity is not None:
        header.append(f" · action similarity {row.similarity:.3f}")
    return header


def compared_renderable(
    row: ComparedStep,
    comparison: Comparison,
    *,
    stacked: bool = False,
    query: str = "",
    limit: int = COMPARE_PREVIEW,
    lines: int | None = COMPARE_LINES,
) -> RenderableType:
    """The two steps side by side (or one above the other on narrow screens), observations included."""
    lines = None if lines is None else (max(3, lines // 2) if stacked else lines)
    reference = _side_panel(comparison.reference, row.reference, "green", query, limit, lines)
    candidate = _side_panel(comparison.candidate, row.candidate, "magenta", query, limit, lines)
    if stacked:
        return Group(compared_header(row, comparison), reference, candidate)
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(ratio=1)
    table.add_column(ratio=1)
    table.add_row(reference, candidate)
    return Group(compared_header(row, comparison), table)


def summary_table(trajectory: Trajectory) -> Table:
    table = Table(title=f"{trajectory.instance_id} · {trajectory.source_format} · {trajectory.model}")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("tool", no_wrap=True)
    table.add_column("action", overflow="fold")
    table.add_column("reward", justify="right", no_wrap=True)
    for row in step_rows(trajectory):
        table.add_row(str(row.index + 1), markers(row), row.tool, row.short_action, reward_text(row.reward))
    return table


def print_comparison(console: Console, comparison: Comparison) -> None:
    console.rule(f"{comparison.reference.title}  vs  {comparison.candidate.title}")
    if comparison.note:
        console.print(f"note: {comparison.note}", style="yellow", highlight=False)
    for row in comparison.rows:
        console.print(compared_renderable(row, comparison, limit=OBSERVATION_PREVIEW, lines=None))
    mean = comparison.mean_reward
    if mean is not None:
        console.print(
            f"mean step SRL reward of {comparison.candidate.label} against {comparison.reference.label}: "
            f"{mean:.3f} over {comparison.scored_steps} of {len(comparison.rows)} steps"
        )


def print_trajectory(console: Console, trajectory: Trajectory, comparison: Comparison | None = None) -> None:
    """The whole replay without interaction (logs, pipes, CI)."""
    console.print(Panel(Text(trajectory.problem_statement), title="issue", border_style="cyan"))
    console.print(summary_table(trajectory))
    total = len(trajectory.steps)
    for k, step in enumerate(trajectory.steps):
        console.print(step_renderable(step, k, total, full_observation=True))
    if comparison is not None:
        print_comparison(console, comparison)
    resolved = {True: "resolved", False: "not resolved", None: "unknown"}[trajectory.resolved]
    console.print(f"final patch: {len(trajectory.final_patch.splitlines())} lines · outcome: {resolved}")


ENTRY_COLUMNS = ("instance", "status", "steps", "SRL reward", "expert", "model / reason")


def entry_cells(entry: Entry, reward: str = "-") -> tuple[str, ...]:
    """One browser row; ``reward`` is the mean SRL step reward against the expert, as text."""
    known = entry.expert is not None and entry.path is not None
    detail = entry.reason or entry.model  # why a task failed says more than the policy every row shares
    return (
        entry.instance_id,
        entry.status or "-",
        str(entry.steps) if entry.steps else "-",
        reward if known else "-",
        "yes" if entry.expert is not None else "-",
        detail,
    )


def source_table(source: ReplaySource, rewards: dict[int, float | None]) -> Table:
    """The browser's table for ``--print``: every trajectory of a folder or task of a run."""
    table = Table(title=f"{source.path} · {source.kind} · {len(source.entries)} entries")
    for name in ENTRY_COLUMNS:
        numeric = name in ("steps", "SRL reward")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=name != "model / reason")
    for number, entry in enumerate(source.entries):
        reward = rewards.get(number)
        table.add_row(*entry_cells(entry, "-" if reward is None else f"{reward:+.3f}"))
    for note in source.notes:
        table.caption = (table.caption or "") + note
    return table
