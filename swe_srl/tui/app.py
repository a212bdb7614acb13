"""The replay terminal app: step list on the left, the selected step on the right.

Keys: j/k or arrows move, / searches, n repeats the search, c toggles the expert-vs-student
comparison (when a second trajectory of the same task is given), i shows the issue, q quits.
The app reads trajectory records only; it imports no training code.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from swe_srl.records import Trajectory
from swe_srl.tui.render import compared_renderable, step_renderable
from swe_srl.tui.view import compare, search, step_rows


class ReplayApp(App[None]):
    """Step through an expert trajectory, optionally beside a student's."""

    CSS = """
    #steps { width: 46; border: round $accent; }
    #detail { border: round $primary; }
    #search { dock: bottom; display: none; }
    #search.visible { display: block; }
    """
    BINDINGS: ClassVar = [
        Binding("j,down", "move(1)", "next"),
        Binding("k,up", "move(-1)", "previous"),
        Binding("slash", "start_search", "search"),
        Binding("n", "search_next", "next match"),
        Binding("c", "toggle_compare", "compare"),
        Binding("i", "toggle_issue", "issue"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, trajectory: Trajectory, other: Trajectory | None = None) -> None:
        super().__init__()
        self.trajectory = trajectory
        self.other = other
        self.comparison = compare(trajectory, other) if other is not None else []
        self.index = 0
        self.comparing = False
        self.showing_issue = False
        self.last_query = ""
        self.status_message = ""

    def compose(self) -> ComposeResult:
        yield Header()
        options = [
            Option(f"{r.index + 1:>3} {r.tool[:10]:<10} {r.short_action[:24]}{self._reward(r.reward)}")
            for r in step_rows(self.trajectory)
        ]
        with Horizontal():
            yield OptionList(*options, id="steps")
            with VerticalScroll(id="detail"):
                yield Static(id="body")
        yield Input(placeholder="search steps…", id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"swe-srl replay · {self.trajectory.instance_id}"
        self.sub_title = f"{self.trajectory.source_format} · {len(self.trajectory.steps)} steps"
        steps = self.query_one("#steps", OptionList)
        if self.trajectory.steps:
            steps.highlighted = 0
        steps.focus()
        self.refresh_body()

    @staticmethod
    def _reward(reward: float | None) -> str:
        return "" if reward is None else f" {reward:+.2f}"

    def refresh_body(self) -> None:
        body = self.query_one("#body", Static)
        total = len(self.trajectory.steps)
        if self.showing_issue:
            body.update(self.trajectory.problem_statement)
        elif not total:
            body.update("This trajectory has no steps.")
        elif self.comparing and self.comparison:
            body.update(compared_renderable(self.comparison[self.index], len(self.comparison)))
        else:
            body.update(step_renderable(self.trajectory.steps[self.index], self.index, total))
        self.query_one("#detail", VerticalScroll).scroll_home(animate=False)

    def select(self, index: int) -> None:
        if not self.trajectory.steps:
            return
        self.index = max(0, min(index, len(self.trajectory.steps) - 1))
        self.query_one("#steps", OptionList).highlighted = self.index
        self.refresh_body()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index:
            self.index = event.option_index
            self.refresh_body()

    def action_move(self, delta: int) -> None:
        self.select(self.index + delta)

    def action_toggle_compare(self) -> None:
        if not self.comparison:
            self.notify("Give a second trajectory with --compare to compare student and expert.")
            return
        self.comparing = not self.comparing
        self.refresh_body()

    def action_toggle_issue(self) -> None:
        self.showing_issue = not self.showing_issue
        self.refresh_body()

    def action_start_search(self) -> None:
        box = self.query_one("#search", Input)
        box.add_class("visible")
        box.value = ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        self.query_one("#steps", OptionList).focus()
        self.last_query = event.value.strip()
        self._find(self.index)

    def action_search_next(self) -> None:
        self._find(self.index + 1)

    def _find(self, start: int) -> None:
        if not self.last_query or not self.trajectory.steps:
            return
        found = search(self.trajectory, self.last_query, start)
        if found is None:
            self.notify(f"No step mentions {self.last_query!r}.", severity="warning")
        else:
            self.select(found)
