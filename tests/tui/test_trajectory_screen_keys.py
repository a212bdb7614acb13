"""Keys of the trajectory screen, driven with Textual's pilot on the real fixtures."""

from __future__ import annotations

import asyncio

from swe_srl.tui.app import ReplayApp
from swe_srl.tui.browser import BrowserScreen
from swe_srl.tui.launch import ReplayRequest, resolve
from swe_srl.tui.trajectory_screen import TrajectoryScreen


def test_escape_closes_the_issue_before_going_back_to_the_browser(fixtures_dir):
    opened = resolve(ReplayRequest(fixtures_dir))

    async def drive() -> None:
        app = ReplayApp(source=opened.source)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TrajectoryScreen)
            await pilot.press("j", "i")
            assert screen.showing_issue
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and not screen.showing_issue and screen.index == 1
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, BrowserScreen)

    asyncio.run(drive())
