"""CLI commands of the training area: ``model init-tiny``, ``train sft|srl|rlvr`` and ``doctor``.

Every ``train`` command reads an optional YAML config (``--config``), then ``--set key=value``
overrides, then its own flags (``--data``, ``--model``, ``--lora``), which win. ``--dry-run`` prints
the plan (batch, steps, tokens, memory and disk estimates) and trains nothing.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from swe_srl.cli.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

ConfigOpt = typer.Option(None, "--config", help="YAML config (see configs/).")
SetOpt = typer.Option(
    [], "--set", help="Override one key, e.g. --set srl.learning_rate=1e-6 (repeatable; any TRL field)."
)
LoraOpt = typer.Option(False, "--lora", help="Train a LoRA adapter instead of all weights.")
ResumeOpt = typer.Option(False, "--resume", help="Continue the run in --out from its newest checkpoint.")
DryRunOpt = typer.Option(False, "--dry-run", help="Print the plan and estimates; train nothing.")
LaunchOpt = typer.Option(
    None, "--launch-config", help="With --dry-run: the accelerate config of the launch (processes, sharding)."
)
ProcessesOpt = typer.Option(
    0, "--num-processes", help="With --dry-run: processes (GPUs), overriding the launch's."
)
GpuMemoryOpt = typer.Option(80.0, "--gpu-memory-gb", help="With --dry-run: memory of one GPU.")


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


def _dry_run(method: str, cfg, launch_config: Path | None, processes: int, gpu_memory: float) -> None:
    import dataclasses

    from swe_srl.train.plan import Launch, check_plan, plan_run, render_plan

    if launch_config is not None:
        launch = Launch.from_accelerate_config(launch_config, gpu_memory)
    else:
        launch = Launch.from_environment(gpu_memory)
    if processes:
        launch = dataclasses.replace(launch, processes=processes)
    plan = plan_run(method, cfg, launch)
    typer.echo(render_plan(plan))
    problems = check_plan(plan, cfg)
    for problem in problems:
        typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
    raise typer.Exit(EXIT_USAGE if problems else EXIT_OK)


def _finish(result, summary: str) -> None:
    """The closing line, or how to resume an interrupted run (exit 130, as for SIGINT); main process only."""
    from swe_srl.train.common import end_distributed, is_main_process

    main = is_main_process()
    end_distributed()
    if not result.interrupted:
        if main:
            typer.echo(summary)
        return
    if not main:
        raise typer.Exit(EXIT_INTERRUPTED)
    argv = [a for a in sys.argv[1:] if a != "--resume"]
    again = shlex.join(["swe-srl", *argv, "--resume"])
    typer.secho(
        f"interrupted at step {result.global_step}: checkpoint saved to "
        f"{result.run / f'checkpoint-{result.global_step}'}\nresume with: {again}",
        fg=typer.colors.YELLOW,
        err=True,
    )
    raise typer.Exit(EXIT_INTERRUPTED)


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


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
    from swe_srl.train.progress import quiet_libraries
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    quiet_libraries()  # transformers' "Writing model shards" bar says nothing the next line does not
    spec = TinyModelSpec(vocab_size=vocab, hidden_size=hidden, num_layers=layers, seed=seed)
    path = init_tiny(out, corpus=list(corpus) or None, spec=spec)
    typer.echo(f"tiny model written to {path}")


def sft_command(
    data: str = typer.Option(
        "", "--data", help="Step-instance folder (or trajectory files with sft.mode=trajectories)."
    ),
    model: str = typer.Option("", "--model", help="Local model folder."),
    out: Path = typer.Option(..., "--out", help="Run folder (refused if it holds a run, unless --resume)."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
    dry_run: bool = DryRunOpt,
    launch_config: Path = LaunchOpt,
    processes: int = ProcessesOpt,
    gpu_memory: float = GpuMemoryOpt,
) -> None:
    """Supervised fine-tuning on expert steps (the SFT baseline; also the warm-up before SRL)."""
    cfg = _config(config, overrides, data, model, lora)
    if dry_run:
        _dry_run("sft", cfg, launch_config, processes, gpu_memory)
    from swe_srl.train.sft import run_sft

    result = run_sft(cfg, out, resume=resume)
    _finish(
        result,
        f"train loss {_number(result.train_loss)}  held-out loss {_number(result.eval_loss)}  "
        f"model {result.final_model}",
    )


def srl_command(
    data: str = typer.Option("", "--data", help="Step-instance folder."),
    model: str = typer.Option("", "--model", help="Local model folder."),
    out: Path = typer.Option(..., "--out", help="Run folder (refused if it holds a run, unless --resume)."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
    dry_run: bool = DryRunOpt,
    launch_config: Path = LaunchOpt,
    processes: int = ProcessesOpt,
    gpu_memory: float = GpuMemoryOpt,
) -> None:
    """SRL: GRPO with the step-wise similarity reward and dynamic sampling."""
    cfg = _config(config, overrides, data, model, lora)
    if dry_run:
        _dry_run("srl", cfg, launch_config, processes, gpu_memory)
    from swe_srl.train.srl import run_srl

    result = run_srl(cfg, out, resume=resume)
    last = result.eval_history[-1] if result.eval_history else {}
    _finish(
        result,
        f"held-out reward {_number(last.get('mean_step_reward'))}  "
        f"exact {_number(last.get('exact_match_rate'))}  "
        f"format errors {_number(last.get('format_error_rate'))}  model {result.final_model}",
    )


def rlvr_command(
    tasks: str = typer.Option("", "--tasks", help="Task suite name or tasks JSONL."),
    model: str = typer.Option("", "--model", help="Local model folder."),
    init: str = typer.Option("", "--init", help="Start from this checkpoint (e.g. an SRL run's final/)."),
    out: Path = typer.Option(..., "--out", help="Run folder (refused if it holds a run, unless --resume)."),
    config: Path = ConfigOpt,
    overrides: list[str] = SetOpt,
    lora: bool = LoraOpt,
    resume: bool = ResumeOpt,
    dry_run: bool = DryRunOpt,
    launch_config: Path = LaunchOpt,
    processes: int = ProcessesOpt,
    gpu_memory: float = GpuMemoryOpt,
) -> None:
    """RLVR: multi-turn GRPO inside SweEnv, rewarded by the grader (resolved or not)."""
    extra = list(overrides)
    if tasks:
        extra.append(f"rlvr.tasks={tasks}")
    if init:
        extra.append(f"rlvr.init={init}")
    cfg = _config(config, extra, "", model, lora)
    if dry_run:
        _dry_run("rlvr", cfg, launch_config, processes, gpu_memory)
    from swe_srl.train.rlvr import run_rlvr

    result = run_rlvr(cfg, out, resume=resume)
    _finish(
        result,
        f"resolved rate {result.resolved_rate:.3f} over {result.episodes} episodes  "
        f"model {result.final_model}",
    )


def doctor_command() -> None:
    """What is installed, which GPUs are visible, which training features and sandboxes are usable."""
    from swe_srl.engine.preflight import sandbox_checks
    from swe_srl.train.doctor import diagnose, render

    typer.echo(render(diagnose()))
    typer.echo("sandboxes:")
    for name, usable, reason in sandbox_checks():
        typer.echo(f"  [{'yes' if usable else 'no '}] {name}: {reason}")


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
    app.command("doctor")(doctor_command)
