"""CLI commands of the training area: ``model init-tiny`` and ``train sft|srl|rlvr``.

Every ``train`` command reads an optional YAML config (``--config``), then ``--set key=value``
overrides, then its own flags (``--data``, ``--model``, ``--lora``), which win.
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from swe_srl.cli.errors import EXIT_INTERRUPTED

ConfigOpt = typer.Option(None, "--config", help="YAML config (see configs/).")
SetOpt = typer.Option([], "--set", help="Override one key, e.g. --set srl.learning_rate=1e-6 (repeatable).")
LoraOpt = typer.Option(False, "--lora/--no-lora", help="Train a LoRA adapter instead of all weights.")
ResumeOpt = typer.Option(False, "--resume", help="Continue from the newest checkpoint in the run folder.")


def _config(config: Path | None, overrides: list[str], data: str = "", model: str = "", lora: bool = False):
    from swe_srl.train.config import load_config

    extra = list(overrides)
    if data:
        extra.append(f"data.path={data}")
    if model:
        extra.append(f"model.path={model}")
    if lora:
        extra.append("lora.enabled=true")
    return load_config(config, extra)


@contextlib.contextmanager
def _resumable() -> Iterator[None]:
    """Ctrl-C stopped training at a checkpoint: say where and how to resume; exit with status 130."""
    from swe_srl.train.interrupt import TrainingInterrupted

    try:
        yield
    except TrainingInterrupted as err:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the checkpoint is saved: a late Ctrl-C changes nothing
        typer.secho(f"interrupted: {err}", err=True, fg=typer.colors.YELLOW)
        again = shlex.join(["swe-srl", *[a for a in sys.argv[1:] if a != "--resume"], "--resume"])
        typer.echo(f"to resume: {again}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def init_tiny_command(
    out: Path = typer.Argument(..., help="Folder to write the model and tokenizer to."),
    seed: int = typer.Option(0, "--seed"),
    hidden: int = typer.Option(96, "--hidden", help="Hidden size."),
    layers: int = typer.Option(2, "--layers"),
    vocab: int = typer.Option(3000, "--vocab", help="BPE vocabulary size (before the markup tokens)."),
    corpus: list[Path] = typer.Option(
        [], "--corpus", help="Text files to train the tokenizer on (default: ours)."
    ),
) -> None:
    """Build a tiny random Qwen2 model and a BPE tokenizer trained on our own text (offline, seconds)."""
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    spec = TinyModelSpec(vocab_size=vocab, hidden_size=hidden, num_layers=layers, seed=seed)
    path = init_tiny(out, corpus=list(corpus) or None, spec=spec)
    typer.echo(f"tiny model written to {path}")


def sft_command(
    data: str = typer.Option(
        "", "--data", help="Step-instance folder (or trajectory files with sft.mode=trajectories)."
    ),
    model: str = typer.Option("", "--model", help="Local model folder."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
) -> None:
    """Supervised fine-tuning on expert steps (the SFT baseline; also the warm-up before SRL)."""
    from swe_srl.train.sft import run_sft

    with _resumable():
        result = run_sft(_config(config, overrides, data, model, lora), out, resume=resume)
    typer.echo(
        f"train loss {result.train_loss:.4f}  held-out loss {result.eval_loss}  model {result.final_model}"
    )


def srl_command(
    data: str = typer.Option("", "--data", help="Step-instance folder."),
    model: str = typer.Option("", "--model", help="Local model folder."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
) -> None:
    """SRL: GRPO with the step-wise similarity reward and dynamic sampling."""
    from swe_srl.train.srl import run_srl

    with _resumable():
        result = run_srl(_config(config, overrides, data, model, lora), out, resume=resume)
    last = result.eval_history[-1] if result.eval_history else {}
    typer.echo(
        f"held-out reward {last.get('mean_step_reward')}  exact {last.get('exact_match_rate')}  "
        f"format errors {last.get('format_error_rate')}  model {result.final_model}"
    )


def rlvr_command(
    tasks: str = typer.Option("", "--tasks", help="Task suite name or tasks JSONL."),
    model: str = typer.Option("", "--model", help="Local model folder."),
    init: str = typer.Option("", "--init", help="Start from this checkpoint (e.g. an SRL run's final/)."),
    out: Path = typer.Option(..., "--out", help="Run folder."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
) -> None:
    """RLVR: multi-turn GRPO inside SweEnv, rewarded by the grader (resolved or not)."""
    from swe_srl.train.rlvr import run_rlvr

    extra = list(overrides)
    if tasks:
        extra.append(f"rlvr.tasks={tasks}")
    if init:
        extra.append(f"rlvr.init={init}")
    with _resumable():
        result = run_rlvr(_config(config, extra, "", model, lora), out, resume=resume)
    typer.echo(
        f"resolved rate {result.resolved_rate:.3f} over {result.episodes - result.masked} scored episodes "
        f"({result.masked} masked: infrastructure errors)  model {result.final_model}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    model_app = typer.Typer(help="Models for tests and demos.", no_args_is_help=True)
    model_app.command("init-tiny")(init_tiny_command)
    app.add_typer(model_app, name="model")
    train_app = typer.Typer(help="Training: sft, srl, rlvr.", no_args_is_help=True)
    train_app.command("sft")(sft_command)
    train_app.command("srl")(srl_command)
    train_app.command("rlvr")(rlvr_command)
    app.add_typer(train_app, name="train")
