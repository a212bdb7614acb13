"""Option types shared by several commands, so every command checks them the same way up front."""

from __future__ import annotations

from typing import Literal

import typer

from swe_srl.context import ContextConfig
from swe_srl.context.prompt import DEFAULT_OBSERVATION_BUDGET, DEFAULT_WINDOW
from swe_srl.sandbox import SANDBOX_KINDS
from swe_srl.trajectories.importers import FORMATS

# click checks the value before the command runs: `--sandbox dockr` is a usage error naming the
# known kinds (exit 2), not a traceback from deep inside the environment.
SandboxKind = Literal[SANDBOX_KINDS]  # type: ignore[valid-type]

# The trajectory formats ``--format`` may force: a typo is refused before any file is read or written.
TrajectoryFormat = Literal[FORMATS]  # type: ignore[valid-type]

# What a policy's prompt shows of the episode: one set of options for `steps build` (training data),
# `eval` and `rollout`, so a model is evaluated with the context it was trained on.
WINDOW = typer.Option(DEFAULT_WINDOW, "--window", min=-1, help="Latest rounds shown in full (-1: all).")
OBS_BUDGET = typer.Option(
    DEFAULT_OBSERVATION_BUDGET, "--obs-budget", min=-1, help="Characters per observation (-1: all)."
)
LIST_EARLIER = typer.Option(False, "--list-earlier", help="List earlier actions, one line each.")
# Requests a run keeps in flight to its model server (0: what suits the server, see swe_srl.policy.client).
MAX_IN_FLIGHT = typer.Option(
    0, "--max-in-flight", min=0, help="Model requests in flight at once (0: by server kind)."
)


def context_config(window: int, obs_budget: int, list_earlier: bool) -> ContextConfig:
    """The :class:`ContextConfig` of the context options (-1: no limit)."""
    return ContextConfig(
        window=None if window < 0 else window,
        observation_budget=None if obs_budget < 0 else obs_budget,
        list_earlier=list_earlier,
    )


# Which tasks a command takes, the same on every command: `-i A -i B`, `--instances A,B`, or both.
INSTANCES = typer.Option(
    [], "--instance", "-i", "--instances", help="Only these instance ids (repeatable, or comma-separated)."
)


def instance_ids(values: list[str]) -> tuple[str, ...]:
    """The ids the instance options name, in order, each once (an empty tuple: every task)."""
    ids = (part.strip() for value in values for part in value.split(","))
    return tuple(dict.fromkeys(i for i in ids if i))
