"""The CLI's one error policy: how a failure is printed and which exit status it gives.

Exit statuses of every ``swe-srl`` command:

- ``0`` (:data:`EXIT_OK`): done.
- ``1`` (:data:`EXIT_FAILED`): the command ran and its verdict is negative: a suite fails
  validation, a replayed trajectory does not resolve, every task of an evaluation errored.
- ``2`` (:data:`EXIT_USAGE`): the command could not do what was asked: a bad option value, a
  missing or malformed input (the message names file, record and field), an unusable environment
  (no sandbox backend, no model server). click's own usage errors exit 2 as well.
- ``130`` (:data:`EXIT_INTERRUPTED`): stopped by Ctrl-C.

A failure prints one line, ``error: ...``, on stderr and never a traceback: commands call
:func:`fail`, and :class:`SweSrlGroup` turns every error swe-srl raises on purpose
(:class:`~swe_srl.records.SweSrlError`) and every missing or unreadable path into that line, so a
command needs no ``try`` of its own. ``SWE_SRL_DEBUG=1`` lets the exception through, traceback
included, for bug reports. An exception of any other type is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import select
import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from swe_srl.records import SweSrlError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Paths a person named that are missing, the wrong kind, or not theirs to read or write.
PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError)


def fail(message: object, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and stop the command with exit status ``code``."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)


def _hide_flag_types(command: Any, parent: typer.Context | None = None) -> None:
    """No ``<bool>`` type beside on/off flags in help screens (a flag takes no value)."""
    ctx = typer.Context(command, info_name=command.name, parent=parent)
    for param in command.get_params(ctx):  # also creates (and caches) the --help option
        if getattr(param, "is_flag", False):
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _hide_flag_types(sub, ctx)


def _stdout_closed_by_reader() -> bool:
    """Whether stdout is a pipe whose reader went away (``swe-srl report runs | head``); if so, stdout
    now writes to /dev/null so Python's final flush stays quiet too."""
    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    if not any(events & select.POLLERR for _, events in poller.poll(0)):
        return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return True


class SweSrlGroup(TyperGroup):
    """The root command group: applies the error policy to every command below it."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _hide_flag_types(self)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: typer.Context) -> Any:
        debug = os.environ.get("SWE_SRL_DEBUG", "") not in ("", "0")
        try:
            return super().invoke(ctx)
        except (SweSrlError, *PATH_ERRORS) as err:
            if debug:
                raise
            fail(err)
        except KeyboardInterrupt:
            if debug:
                raise
            fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            if not _stdout_closed_by_reader():
                raise  # a socket's broken pipe (a model server) is not the reader going away
            raise typer.Exit(code=EXIT_OK) from None
