"""The ``swe-srl`` command line: commands parse arguments and call library functions, nothing more.

Each area registers its commands from its own module; heavy imports (torch, docker, textual)
happen inside the command functions so ``swe-srl --help`` stays instant.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="swe-srl",
    help="Supervised Reinforcement Learning for coding agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_AREAS = (
    "env_cmds",
    "episode_cmds",
    "tasks_cmds",
    "eval_cmds",
    "data_cmds",
    "train_cmds",
    "ui_cmds",
    "show_cmds",
)

for _area in _AREAS:
    importlib.import_module(f"swe_srl.cli.{_area}").register(app)


def main() -> None:
    """Run the app; errors swe-srl raises on purpose (bad input, sandbox failures) print as one line."""
    from swe_srl.records import SweSrlError

    try:
        app()
    except SweSrlError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
