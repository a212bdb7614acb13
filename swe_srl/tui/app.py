"""The replay terminal app: a trajectory screen (``trajectory_screen``) for one trajectory or a
compared pair, or a browser screen (``browser``) over a folder's trajectories or an eval run's tasks.
The app reads trajectory records only; it imports no training code.
"""

from __future__ import annotations

from textual.app import App

from swe_srl.records import Trajectory
from swe_srl.tui.browser import BrowserScreen
from swe_srl.tui.loading import ReplaySource
from swe_srl.tui.trajectory_screen import TrajectoryScreen
from swe_srl.tui.view import Comparison

__all__ = ["BrowserScreen", "ReplayApp", "TrajectoryScreen"]


class ReplayApp(App[None]):
    """Open one trajectory (optionally compared), or a browser over a folder or an eval run."""

    TITLE = "swe-srl replay"

    def __init__(
        self,
        trajectory: Trajectory | None = None,
        comparison: Comparison | None = None,
        source: ReplaySource | None = None,
    ):
        super().__init__()
        self.trajectory = trajectory
        self.comparison = comparison
        self.source = source

    def on_mount(self) -> None:
        if self.source is not None:
            self.push_screen(BrowserScreen(self.source))
        elif self.trajectory is not None:
            self.push_screen(TrajectoryScreen(self.trajectory, self.comparison))
