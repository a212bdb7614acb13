"""The ``swe-srl`` command line: commands parse arguments and call library functions, nothing more.

Each area registers its commands from its own module; heavy imports (torch, docker, textual)
happen inside the command functions so ``swe-srl --help`` stays instant. Errors and exit statuses
follow one policy for every command (``errors.py``).
"""

from __future__ import annotations

import importlib

import typer

from swe_srl.cli.errors import SweSrlGroup

app = typer.Typer(
    name="swe-srl",
    help="Supervised Reinforcement Learning for coding agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=SweSrlGroup,
)

_AREAS = (
    "env_cmds",
    "episode_cmds",
    "tasks_cmds",
    "envs_cmds",
    "synth_cmds",
    "eval_cmds",
    "data_cmds",
    "train_cmds",
    "ui_cmds",
    "show_cmds",
    "serve_cmds",
)

for _area in _AREAS:
    importlib.import_module(f"swe_srl.cli.{_area}").register(app)


def _print_version(value: bool) -> None:
    if value:
        from swe_srl import __version__

        typer.echo(f"swe-srl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Supervised Reinforcement Learning for coding agents."""


def main() -> None:
    """The console script: run the app (errors are handled by ``SweSrlGroup``)."""
    app()
