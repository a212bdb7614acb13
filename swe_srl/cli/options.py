"""Option types shared by several commands, so every command checks them the same way up front."""

from __future__ import annotations

from typing import Literal

from swe_srl.sandbox import SANDBOX_KINDS
from swe_srl.trajectories.importers import FORMATS

# click checks the value before the command runs: `--sandbox dockr` is a usage error naming the
# known kinds (exit 2), not a traceback from deep inside the environment.
SandboxKind = Literal[SANDBOX_KINDS]  # type: ignore[valid-type]

# The trajectory formats ``--format`` may force: a typo is refused before any file is read or written.
TrajectoryFormat = Literal[FORMATS]  # type: ignore[valid-type]
