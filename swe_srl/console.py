"""The rich console that command output goes to: one place decides how wide printed tables are.

On a terminal rich fits tables to the window. Piped into a file, a pager or a CI log, rich would
assume 80 columns and fold ids in the middle (``swe-srl__tabkit-mean-co`` / ``unts-missing``);
there the console is :data:`PIPE_WIDTH` wide unless ``COLUMNS`` says otherwise.
"""

from __future__ import annotations

import os
from typing import IO

from rich.console import Console

PIPE_WIDTH = 160


def output_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console for ``file`` (stdout by default): the window's width, or ``PIPE_WIDTH`` when piped."""
    console = Console(file=file, stderr=stderr)
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(file=file, stderr=stderr, width=PIPE_WIDTH)
