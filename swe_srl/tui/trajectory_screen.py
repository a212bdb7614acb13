"""The trajectory screen of the replay app: steps on the left, the selected step on the right.

Keys: j/k or arrows move, g/G first/last, / searches, n/N next/previous match, c toggles the
comparison with the expert (when a partner is known), i shows the issue, s hides the step list,
escape closes the search box or the issue, else goes back to the browser, q quits. The step list
fits its width: tool labels stay whole, summaries end in an ellipsis, and a reward column appears
where there is room for it.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from swe_srl.records import Trajectory
from swe_srl.tui.render import compared_renderable, markers, reward_text, step_renderable
from swe_srl.tui.view import Comparison, StepRow, matching_steps, step_row, step_rows, step_text

STACK_BELOW = 100  # detail columns under which the two sides of a comparison stack vertically
LABEL_WIDTH = 12  # the longest labels ("format error", "str_replace") keep their whole name
REWARD_FROM = 40  # step-list columns from which a reward column fits beside label and summary

CSS = """
#steps {
    width: 32%; min-width: 26; max-width: 64; height: 1fr; border: round $accent; padding: 0;
    text-wrap: nowrap; text-overflow: ellipsis;
}
#steps > .option-list--option { padding: 0; }
#steps.hidden { display: none; }
#detail { width: 1fr; border: round $primary; }
#status { height: 1; padding: 0 1; background: $boost; }
#search { dock: bottom; display: none; }
#search.visible { display: block; }
"""


def row_prompt(row: StepRow, label_width: int, with_reward: bool, dim: bool = False) -> Text:
    """One step-list line: index, marker, [reward], tool label, summary (cut by the list's width)."""
    text = Text(no_wrap=True, overflow="ellipsis", style="dim" if dim else "")
    text.append(f"{row.index + 1:>3}")
    text.append_text(markers(row))
    if with_reward:
        value = reward_text(row.reward)
        style = "red" if row.reward is not None and row.reward < 0 else "cyan"
        text.append(f"{value:>6}" if value else " " * 6, style=style)
    text.append(f" {row.tool[:label_width]:<{label_width}} ", style="bold")
    text.append(row.short_action)
    return text


class TrajectoryScreen(Screen[None]):
    """One trajectory, or two of the same task aligned step by step."""

    CSS = CSS
    BINDINGS: ClassVar = [
        Binding("j,down", "move(1)", "next", show=False),
        Binding("k,up", "move(-1)", "previous", show=False),
        Binding("g,home", "jump(0)", "first", show=False),
        Binding("G,end", "jump(-1)", "last", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("slash", "start_search", "search"),
        Binding("n", "search_step(1)", "next match"),
        Binding("N", "search_step(-1)", "prev match", show=False),
        Binding("c", "toggle_compare", "compare"),
        Binding("i", "toggle_issue", "issue"),
        Binding("s", "toggle_steps", "steps"),
        Binding("escape", "back", "back"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, trajectory: Trajectory, comparison: Comparison | None = None, *, can_go_back=False):
        super().__init__()
        self.trajectory = trajectory
        self.comparison = comparison
        self.comparing = comparison is not None
        self.can_go_back = can_go_back
        self.index = 0
        self.showing_issue = False
        self.query_text = ""
        self.matches: list[int] = []
        self.shown: RenderableType = Text("")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(id="steps")
            with VerticalScroll(id="detail"):
                yield Static(id="body")
        yield Static(id="status")
        yield Input(placeholder="search steps… (enter: find, escape: cancel)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        trajectory = self.trajectory
        self.title = f"swe-srl replay · {trajectory.instance_id}"
        resolved = {True: "resolved", False: "not resolved", None: "outcome unknown"}[trajectory.resolved]
        self.sub_title = f"{trajectory.model or trajectory.source_format} · {resolved}"
        self.fill_steps()
        self.query_one("#steps", OptionList).focus()
        self.refresh_body()

    # -- what is shown -----------------------------------------------------------------------

    @property
    def length(self) -> int:
        return len(self.comparison.rows) if self.comparing and self.comparison else len(self.trajectory.steps)

    def list_rows(self) -> list[Text]:
        if not (self.comparing and self.comparison):
            rows = step_rows(self.trajectory)
            with_reward = self.wide_list and any(r.reward is not None for r in rows)
            return [row_prompt(r, LABEL_WIDTH, with_reward) for r in rows]
        prompts = []
        for row in self.comparison.rows:
            step = row.candidate or row.reference
            shown = step_row(row.index, step, row.reward)
            if row.problem:  # a reply the SRL format check rejects, even if the environment read it
                shown = dataclasses.replace(shown, format_error=True)
            prompts.append(row_prompt(shown, LABEL_WIDTH, self.wide_list, dim=row.candidate is None))
        return prompts

    @property
    def wide_list(self) -> bool:
        return self.query_one("#steps").content_size.width >= REWARD_FROM

    def fill_steps(self) -> None:
        steps = self.query_one("#steps", OptionList)
        steps.clear_options()
        steps.add_options([Option(prompt) for prompt in self.list_rows()])
        self.index = max(0, min(self.index, self.length - 1))
        if self.length:
            steps.highlighted = self.index

    def status_line(self) -> str:
        """Search result first (it answers the last key pressed), then position, then the pair."""
        parts = []
        if self.query_text:
            position = self.matches.index(self.index) + 1 if self.index in self.matches else 0
            found = f"match {position} of {len(self.matches)}" if position else f"{len(self.matches)} matches"
            parts.append(f"/{self.query_text}: {found}" if self.matches else f"/{self.query_text}: no match")
        if self.length:
            parts.append(f"step {self.index + 1} of {self.length}")
        if self.comparing and self.comparison:
            comparison = self.comparison
            sides = f"{comparison.reference.label}: {len(comparison.reference.trajectory.steps)} steps, "
            sides += f"{comparison.candidate.label}: {len(comparison.candidate.trajectory.steps)}"
            parts.append(sides)
            if comparison.mean_reward is not None:
                parts.append(f"mean SRL reward {comparison.mean_reward:.3f}")
        return " · ".join(parts)

    def body_renderable(self) -> RenderableType:
        """What the detail pane shows now: the issue, one step, or one compared pair of steps."""
        if self.showing_issue:
            return Text(self.trajectory.problem_statement)
        if not self.length:
            return Text("This trajectory has no steps.")
        if self.comparing and self.comparison:
            stacked = self.query_one("#detail").size.width < STACK_BELOW
            row = self.comparison.rows[self.index]
            return compared_renderable(row, self.comparison, stacked=stacked, query=self.query_text)
        step = self.trajectory.steps[self.index]
        return step_renderable(step, self.index, self.length, query=self.query_text)

    def refresh_body(self) -> None:
        self.shown = self.body_renderable()
        self.query_one("#body", Static).update(self.shown)
        self.query_one("#status", Static).update(self.status_line())
        self.query_one("#detail", VerticalScroll).scroll_home(animate=False)

    def on_resize(self) -> None:
        self.fill_steps()
        self.refresh_body()

    # -- navigation --------------------------------------------------------------------------

    def select(self, index: int) -> None:
        if not self.length:
            return
        self.index = max(0, min(index, self.length - 1))
        self.query_one("#steps", OptionList).highlighted = self.index
        self.refresh_body()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index:
            self.index = event.option_index
            self.refresh_body()

    def action_move(self, delta: int) -> None:
        self.select(self.index + delta)

    def action_jump(self, index: int) -> None:
        self.select(index if index >= 0 else self.length - 1)

    def action_toggle_compare(self) -> None:
        if self.comparison is None:
            self.notify("No expert partner: give one with --expert FILE (or --compare FILE).")
            return
        self.comparing = not self.comparing
        self.fill_steps()
        self._search(self.query_text)
        self.refresh_body()

    def action_toggle_issue(self) -> None:
        self.showing_issue = not self.showing_issue
        self.refresh_body()

    def action_toggle_steps(self) -> None:
        self.query_one("#steps").toggle_class("hidden")

    def action_back(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_class("visible"):
            box.remove_class("visible")
            self.query_one("#steps", OptionList).focus()
        elif self.showing_issue:  # back from the issue to the step it was opened on
            self.action_toggle_issue()
        elif self.can_go_back:
            self.app.pop_screen()

    # -- search ------------------------------------------------------------------------------

    def action_start_search(self) -> None:
        box = self.query_one("#search", Input)
        box.add_class("visible")
        box.value = self.query_text
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        self.query_one("#steps", OptionList).focus()
        self._search(event.value.strip())
        following = [k for k in self.matches if k >= self.index]
        if self.matches:
            self.select((following or self.matches)[0])
        else:
            self.refresh_body()
            if self.query_text:
                self.notify(f"No step mentions {self.query_text!r}.", severity="warning")

    def _search(self, query: str) -> None:
        self.query_text = query
        if self.comparing and self.comparison:
            texts = [
                "\n".join(step_text(s) for s in (row.reference, row.candidate) if s is not None)
                for row in self.comparison.rows
            ]
            needle = query.lower()
            self.matches = [k for k, text in enumerate(texts) if needle and needle in text.lower()]
        else:
            self.matches = matching_steps(list(self.trajectory.steps), query)

    def action_search_step(self, direction: int) -> None:
        if not self.matches:
            if self.query_text:
                self.notify(f"No step mentions {self.query_text!r}.", severity="warning")
            return
        if direction > 0:
            following = [k for k in self.matches if k > self.index]
            self.select((following or self.matches)[0])
        else:
            preceding = [k for k in self.matches if k < self.index]
            self.select((preceding or self.matches)[-1])
