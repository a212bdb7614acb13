"""The replay browser: every trajectory of a folder, or every task of an eval run, in one table.

Enter opens the selected one (beside its expert when one was found); escape comes back. The mean
SRL step reward against the expert is computed in a worker thread after the table is shown, so a
large run opens at once and fills that column in.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from swe_srl.records import SweSrlError
from swe_srl.tui.loading import ReplaySource, open_entry
from swe_srl.tui.render import ENTRY_COLUMNS, entry_cells
from swe_srl.tui.trajectory_screen import TrajectoryScreen

STATUS_STYLES = {
    "resolved": "green",
    "unresolved": "yellow",
    "patch_failed": "magenta",
    "error": "red",
    "tampered": "bold red",
    "unreadable": "red",
    "in progress": "cyan",
}
CSS = """
#tasks { height: 1fr; }
#browser-status { height: 1; padding: 0 1; background: $boost; }
"""


def status_text(status: str) -> Text:
    return Text(status or "-", style=STATUS_STYLES.get(status, "white" if status else "dim"))


class BrowserScreen(Screen[None]):
    """A table of the source's entries; enter opens one."""

    CSS = CSS
    BINDINGS: ClassVar = [
        Binding("j", "cursor(1)", "next", show=False),
        Binding("k", "cursor(-1)", "previous", show=False),
        Binding("enter", "open", "open"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, source: ReplaySource):
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        yield Static(id="browser-status")
        yield Footer()

    def on_mount(self) -> None:
        source = self.source
        self.title = f"swe-srl replay · {source.path}"
        self.sub_title = (
            f"{source.kind} · {len(source.entries)} {'tasks' if source.kind == 'run' else 'trajectories'}"
        )
        table = self.query_one("#tasks", DataTable)
        for column in ENTRY_COLUMNS:
            table.add_column(column, key=column)
        for number, entry in enumerate(source.entries):
            cells = entry_cells(entry, "…")
            table.add_row(cells[0], status_text(cells[1]), *cells[2:], key=str(number))
        table.focus()
        self.query_one("#browser-status", Static).update(self.status_line())
        if any(e.expert is not None and e.path is not None for e in source.entries):
            self.fill_rewards()

    def status_line(self) -> str:
        counts: dict[str, int] = {}
        for entry in self.source.entries:
            counts[entry.status or "-"] = counts.get(entry.status or "-", 0) + 1
        parts = [", ".join(f"{status} {n}" for status, n in sorted(counts.items()))]
        parts += list(self.source.notes)
        return " · ".join(p for p in parts if p)

    @work(thread=True, exclusive=True)
    def fill_rewards(self) -> None:
        for number, entry in enumerate(self.source.entries):
            if entry.expert is None or entry.path is None:
                continue
            try:
                _, comparison = open_entry(entry)
                mean = comparison.mean_reward if comparison is not None else None
                text = "-" if mean is None else f"{mean:+.3f}"
            except SweSrlError:
                text = "unreadable"
            self.app.call_from_thread(self._set_reward, number, text)

    def _set_reward(self, number: int, text: str) -> None:
        self.query_one("#tasks", DataTable).update_cell(str(number), "SRL reward", text)

    def action_cursor(self, delta: int) -> None:
        table = self.query_one("#tasks", DataTable)
        table.move_cursor(row=max(0, min(table.cursor_row + delta, table.row_count - 1)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open(int(event.row_key.value))

    def action_open(self) -> None:
        self.open(self.query_one("#tasks", DataTable).cursor_row)

    def open(self, number: int) -> None:
        entry = self.source.entries[number]
        try:
            trajectory, comparison = open_entry(entry)
        except SweSrlError as err:
            self.notify(str(err), severity="error", timeout=8)
            return
        self.app.push_screen(TrajectoryScreen(trajectory, comparison, can_go_back=True))
