"""Fixtures of the run-engine tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import private_tmpdir


@pytest.fixture
def tmpdir_private() -> Iterator[Path]:
    """A fresh ``$TMPDIR`` for the test: its sandboxes' workspaces and the engine's leases land there."""
    with private_tmpdir() as path:
        yield path
