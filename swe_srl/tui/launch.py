"""``swe-srl replay``: decide what to open (one trajectory, a pair, a browser) and open it.

- ``replay FILE``: one trajectory; when it is a policy's run and its expert is found (see
  ``loading``), the comparison opens with it.
- ``replay FILE --compare OTHER``: the pair, roles detected from the records (``roles``).
- ``replay FILE --expert EXPERT``: the pair with the roles stated; EXPERT may also be a folder or
  collection of experts, matched by instance id.
- ``replay DIR`` / a collection file / an eval run folder: the browser over every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from swe_srl.records import RecordError, Trajectory
from swe_srl.tui.loading import (
    ReplaySource,
    entry_reward,
    load_for_replay,
    open_entry,
    open_pair,
    open_source,
)
from swe_srl.tui.render import print_trajectory, source_table
from swe_srl.tui.view import Comparison


@dataclass(frozen=True)
class ReplayRequest:
    path: Path
    compare: Path | None = None
    expert: Path | None = None
    index: int | None = None
    print_only: bool = False


@dataclass(frozen=True)
class Opened:
    """Either one trajectory (maybe compared) or a browser source."""

    trajectory: Trajectory | None = None
    comparison: Comparison | None = None
    source: ReplaySource | None = None


def _single_file_expert(expert: Path | None) -> bool:
    """``--expert`` names one trajectory (not a folder or a collection of experts)."""
    if expert is None or not expert.is_file():
        return False
    try:
        load_for_replay(expert, 1)
    except RecordError:
        return True
    return False


def resolve(request: ReplayRequest) -> Opened:
    """What ``request`` opens; bad paths and malformed files raise ``RecordError``."""
    if request.compare is not None and request.expert is not None:
        raise RecordError("give either --compare (roles detected) or --expert (roles stated), not both")
    partner = request.compare or (request.expert if _single_file_expert(request.expert) else None)
    if partner is not None:
        if request.path.is_dir():
            message = "a folder or run opens a browser; give its experts with --expert FOLDER"
            raise RecordError(message, source=str(request.path))
        if not partner.exists():
            raise RecordError("no such file", source=str(partner))
        trajectory, comparison = open_pair(
            request.path, partner, request.index or 0, second_is_expert=request.expert is not None
        )
        return Opened(trajectory, comparison)
    if request.index is not None:
        trajectory = load_for_replay(request.path, request.index)
        return Opened(trajectory)
    source = open_source(request.path, request.expert)
    if source.kind == "trajectory":
        trajectory, comparison = open_entry(source.entries[0])
        return Opened(trajectory, comparison)
    return Opened(source=source)


def print_replay(opened: Opened, console: Console | None = None) -> None:
    console = console or Console()
    if opened.source is not None:
        rewards = {n: entry_reward(e) for n, e in enumerate(opened.source.entries) if e.expert is not None}
        console.print(source_table(opened.source, rewards))
    elif opened.trajectory is not None:
        print_trajectory(console, opened.trajectory, opened.comparison)


def run_replay(request: ReplayRequest, console: Console | None = None) -> None:
    """Print the replay, or run the terminal app."""
    opened = resolve(request)
    if request.print_only:
        print_replay(opened, console)
        return
    from swe_srl.tui.app import ReplayApp  # textual: loaded only when a terminal app runs

    ReplayApp(opened.trajectory, opened.comparison, opened.source).run()
