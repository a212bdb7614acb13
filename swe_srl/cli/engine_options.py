"""Options every command on the run engine shares (``eval``, ``rollout``, ``tasks validate``,
``trajectories replay-check``, ``images build``), and what such a command prints when interrupted."""

from __future__ import annotations

import shlex
import signal
import sys
from typing import Literal, NoReturn

import typer

from swe_srl.cli.errors import EXIT_INTERRUPTED
from swe_srl.engine.executors import EXECUTORS
from swe_srl.engine.interrupt import RunInterrupted
from swe_srl.engine.loop import EngineSettings

# Checked by click before the command runs, as ``--sandbox`` is (swe_srl.cli.options).
ExecutorKind = Literal[EXECUTORS]  # type: ignore[valid-type]

EXECUTOR = typer.Option(
    "local", "--executor", help="Where tasks run: local (threads here) | ray (a Ray cluster)."
)
RAY_ADDRESS = typer.Option(
    "",
    "--ray-address",
    help="Ray cluster to join (ray://host:10001 or host:6379); default $RAY_ADDRESS or a local one.",
)
TASK_BUDGET = typer.Option(
    3600.0, "--task-budget", help="Wall seconds per task (sandbox starts, agent, grading, teardown); 0: none."
)
TASK_CPUS = typer.Option(1.0, "--task-cpus", help="CPUs each task asks Ray for.")
TASK_MEMORY = typer.Option(4.0, "--task-memory-gb", help="Memory (GiB) each task asks Ray for; 0: none.")
FORCE_NEW = typer.Option(
    False,
    "--force-new",
    help="Start over in --out even if it holds a different run (its files are moved aside).",
)


def engine_settings(
    executor: str, ray_address: str, workers: int, task_budget: float, task_cpus: float, task_memory_gb: float
) -> EngineSettings:
    return EngineSettings(
        executor=executor,
        ray_address=ray_address or None,
        workers=workers,
        task_budget=task_budget or None,
        task_cpus=task_cpus,
        task_memory_gb=task_memory_gb,
    )


def resume_command() -> str:
    """The command line that resumes this run (the same one, without ``--force-new``)."""
    args = [a for a in sys.argv[1:] if a != "--force-new"]
    return shlex.join(["swe-srl", *args])


def exit_interrupted(err: RunInterrupted, *, resumes: bool = True) -> NoReturn:
    """Say what an interrupted run kept and how to go on; exit with status 130.

    ``resumes``: a rerun of the same command skips what finished (eval, rollout).
    """
    # Everything is reaped and recorded: another Ctrl-C while this prints must not end in a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    where = f" in {err.where}" if err.where else ""
    typer.secho(
        f"interrupted: {err.finished} task(s) finished and recorded{where}, {err.not_run} not run; "
        "every sandbox was reaped",
        err=True,
        fg=typer.colors.YELLOW,
    )
    if resumes:
        typer.echo(f"to resume, run the same command again: {resume_command()}", err=True)
    else:
        typer.echo(f"to run it all again: {resume_command()}", err=True)
    raise typer.Exit(EXIT_INTERRUPTED)
