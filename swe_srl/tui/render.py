"""Rich renderables for a trajectory step, shared by the Textual app and ``replay --print``."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from swe_srl.actions import render_action
from swe_srl.records import Step, Trajectory
from swe_srl.tui.view import ComparedStep, compare, edit_diff, step_rows

OBSERVATION_PREVIEW = 4000  # characters of an observation shown before a visible marker


def action_renderable(step: Step) -> RenderableType:
    """Bash as bash, edits as diffs, everything else as the canonical call text."""
    diff = edit_diff(step.action)
    if diff:
        return Syntax(diff, "diff", word_wrap=True, theme="ansi_dark")
    if step.action.tool == "bash":
        return Syntax(str(step.action.args.get("command", "")), "bash", word_wrap=True, theme="ansi_dark")
    return Syntax(render_action(step.action), "xml", word_wrap=True, theme="ansi_dark")


def clip(text: str, limit: int = OBSERVATION_PREVIEW) -> Text:
    if len(text) <= limit:
        return Text(text)
    clipped = Text(text[:limit])
    clipped.append(f"\n… [{len(text) - limit} more characters]", style="bold yellow")
    return clipped


def step_renderable(step: Step, index: int, total: int, *, full_observation: bool = False) -> RenderableType:
    reward = f"  reward {step.reward:.3f}" if step.reward is not None else ""
    observation = Text(step.observation) if full_observation else clip(step.observation)
    return Group(
        Text(f"Step {index + 1}/{total} · {step.action.tool}{reward}", style="bold"),
        Panel(Text(step.thought or "(no monologue)", style="italic"), title="monologue", border_style="blue"),
        Panel(action_renderable(step), title="action", border_style="green"),
        Panel(observation, title="observation", border_style="white"),
    )


def compared_renderable(row: ComparedStep, total: int) -> RenderableType:
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(ratio=1)
    table.add_column(ratio=1)
    sides = []
    for label, step in (("expert", row.expert), ("student", row.student)):
        style = "green" if label == "expert" else "magenta"
        content = action_renderable(step) if step else Text("(no step)", style="dim")
        sides.append(Panel(content, title=label, border_style=style))
    table.add_row(*sides)
    sim = "n/a" if row.similarity is None else f"{row.similarity:.3f}"
    return Group(Text(f"Step {row.index + 1}/{total} · similarity (SRL reward) {sim}", style="bold"), table)


def summary_table(trajectory: Trajectory) -> Table:
    table = Table(title=f"{trajectory.instance_id} · {trajectory.source_format} · {trajectory.model}")
    for column in ("#", "tool", "action", "reward"):
        table.add_column(column, overflow="fold")
    for row in step_rows(trajectory):
        reward = "" if row.reward is None else f"{row.reward:.3f}"
        table.add_row(str(row.index + 1), row.tool, row.short_action, reward)
    return table


def print_trajectory(console: Console, trajectory: Trajectory, other: Trajectory | None = None) -> None:
    """The whole replay without interaction (logs, pipes, CI)."""
    console.print(Panel(Text(trajectory.problem_statement), title="issue", border_style="cyan"))
    console.print(summary_table(trajectory))
    total = len(trajectory.steps)
    for k, step in enumerate(trajectory.steps):
        console.print(step_renderable(step, k, total, full_observation=True))
    if other is not None:
        rows = compare(trajectory, other)
        console.rule("expert vs student")
        for row in rows:
            console.print(compared_renderable(row, len(rows)))
        scored = [r.similarity for r in rows if r.similarity is not None]
        if scored:
            console.print(f"mean step similarity: {sum(scored) / len(scored):.3f} over {len(scored)} steps")
    resolved = {True: "resolved", False: "not resolved", None: "unknown"}[trajectory.resolved]
    console.print(f"final patch: {len(trajectory.final_patch.splitlines())} lines · outcome: {resolved}")
