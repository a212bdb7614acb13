"""CLI commands of the data area: ``swe-srl trajectories ...`` and ``swe-srl steps ...``.

Commands parse arguments and call ``swe_srl.trajectories``; nothing else happens here.
"""

from __future__ import annotations

from pathlib import Path

import typer

from swe_srl.cli.engine_options import (
    EXECUTOR,
    FORCE_NEW,
    RAY_ADDRESS,
    TASK_BUDGET,
    TASK_CPUS,
    TASK_MEMORY,
    ExecutorKind,
    engine_settings,
    exit_interrupted,
)
from swe_srl.cli.errors import EXIT_FAILED, fail
from swe_srl.cli.options import (
    INSTANCES,
    LIST_EARLIER,
    MAX_IN_FLIGHT,
    OBS_BUDGET,
    WINDOW,
    SandboxKind,
    TrajectoryFormat,
    context_config,
    instance_ids,
)

trajectories_app = typer.Typer(help="Import and inspect expert trajectories.", no_args_is_help=True)
steps_app = typer.Typer(help="Build SRL step-instance datasets from trajectories.", no_args_is_help=True)

_FORMAT_HELP = "Force one input format; detected per record otherwise."


def _print_skipped(skipped: list[str]) -> None:
    from swe_srl.console import output_console

    console = output_console(stderr=True)
    if skipped:
        console.print(f"[yellow]skipped {len(skipped)} malformed record(s):[/yellow]")
        for message in skipped[:20]:
            console.print(f"  {message}", markup=False)
        if len(skipped) > 20:
            console.print(f"  ... and {len(skipped) - 20} more")


@trajectories_app.command("import")
def import_cmd(
    inputs: list[str] = typer.Argument(
        ..., help="Files, directories, JSONL/parquet collections, or hf:OWNER/NAME (a Hugging Face dataset)."
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the normalized <id>.traj.json files."),
    fmt: TrajectoryFormat | None = typer.Option(None, "--format", help=_FORMAT_HELP),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip malformed records (counted) instead of stopping."
    ),
) -> None:
    """Convert expert trajectories from any supported format into swe-srl's normalized format."""
    from swe_srl.console import output_console
    from swe_srl.records import RecordError
    from swe_srl.trajectories.importers import import_to_directory

    try:
        report = import_to_directory(inputs, out, fmt=fmt, skip_bad=skip_bad)
    except RecordError as err:
        fail(str(err))
        return
    formats = ", ".join(f"{name}: {count}" for name, count in sorted(report.formats.items())) or "none"
    output_console().print(
        f"imported {report.imported} trajectories ({formats}) into {out}; skipped {len(report.skipped)}"
    )
    _print_skipped(report.skipped)


@trajectories_app.command("stats")
def stats_cmd(
    inputs: list[str] = typer.Argument(
        ..., help="Directories or files of trajectories (any supported format)."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the statistics as JSON here."),
) -> None:
    """Counts of trajectories, steps, tools, resolved share and lengths."""
    import json

    from swe_srl.console import output_console
    from swe_srl.records import RecordError
    from swe_srl.trajectories.importers import import_paths
    from swe_srl.trajectories.stats import collect_trajectory_stats, trajectory_table

    try:
        stats = collect_trajectory_stats(import_paths(inputs))
    except RecordError as err:
        fail(str(err))
        return
    output_console().print(trajectory_table(stats))
    if json_out is not None:
        json_out.write_text(json.dumps(stats.to_dict(), indent=2) + "\n", encoding="utf-8")


@steps_app.command("build")
def build_cmd(
    inputs: list[str] = typer.Argument(
        ..., help="Trajectories: files, directories, JSONL/parquet (any format)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Directory for train/validation .jsonl/.parquet and stats.json."
    ),
    window: int = WINDOW,
    list_earlier: bool = LIST_EARLIER,
    obs_budget: int = OBS_BUDGET,
    resolved_only: bool = typer.Option(False, "--resolved-only", help="Only trajectories marked resolved."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Most instances per trajectory."),
    tools: list[str] | None = typer.Option(None, "--tool", help="Only targets of this tool (repeatable)."),
    dedupe: bool = typer.Option(True, "--dedupe/--no-dedupe", help="Drop repeated prompt + target."),
    val_fraction: float = typer.Option(0.05, "--val-fraction", help="Share of trajectories in validation."),
    seed: int = typer.Option(0, "--seed", help="Seed of the by-trajectory split."),
    fmt: TrajectoryFormat | None = typer.Option(None, "--format", help=_FORMAT_HELP),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip malformed records (counted) instead of stopping."
    ),
    learnable_only: bool = typer.Option(
        False, "--learnable-only", help="Drop instances whose expert action is not learnable (counted)."
    ),
    tokenizer: Path | None = typer.Option(None, "--tokenizer", help="Tokenizer folder for token counts."),
    max_prompt_tokens: int | None = typer.Option(
        None, "--max-prompt-tokens", help="Trim prompts to this many tokens; drop what cannot fit (counted)."
    ),
    jsonl: bool = typer.Option(True, "--jsonl/--no-jsonl", help="Also write <split>.jsonl beside parquet."),
) -> None:
    """Cut trajectories into per-action SRL step instances (prompt = context, target = expert action)."""
    from swe_srl.console import output_console
    from swe_srl.records import RecordError
    from swe_srl.trajectories.importers import ImportReport, import_paths
    from swe_srl.trajectories.stats import step_table
    from swe_srl.trajectories.steps import StepOptions, build_step_dataset

    if not 0.0 <= val_fraction <= 1.0:
        fail("--val-fraction must lie in [0, 1]")
    if max_prompt_tokens is not None and tokenizer is None:
        fail("--max-prompt-tokens needs --tokenizer")
    options = StepOptions(
        window=None if window < 0 else window,
        list_earlier=list_earlier,
        observation_budget=None if obs_budget < 0 else obs_budget,
        resolved_only=resolved_only,
        max_steps_per_trajectory=max_steps,
        tools=frozenset(tools) if tools else None,
        dedupe=dedupe,
        validation_fraction=val_fraction,
        seed=seed,
        learnable_only=learnable_only,
        max_prompt_tokens=max_prompt_tokens,
        write_jsonl=jsonl,
    )
    report = ImportReport()
    try:
        counter = _counter(tokenizer)
        records = import_paths(inputs, fmt=fmt, skip_bad=skip_bad, report=report)
        stats = build_step_dataset(records, out, options, counter=counter, skipped=report.skipped)
    except RecordError as err:
        fail(str(err))
    dropped = sum(stats.dropped.values()) + stats.duplicates
    done = (
        f"wrote {stats.total_instances} instances to {out}; dropped {dropped}, trimmed {stats.trimmed}; "
        f"skipped {len(report.skipped)} records"
    )
    output_console().print(step_table(stats), done)
    _print_skipped(report.skipped)


def _counter(tokenizer: Path | None):
    if tokenizer is None:
        return None
    from swe_srl.context import TokenCounter

    if not tokenizer.is_dir():
        fail(f"{tokenizer}: no such tokenizer folder")
    return TokenCounter.from_path(tokenizer)


@steps_app.command("check")
def check_cmd(
    folder: Path = typer.Argument(..., help="A step-instance folder (steps build --out)."),
    tokenizer: Path | None = typer.Option(None, "--tokenizer", help="Tokenizer folder for token counts."),
    max_prompt_tokens: int | None = typer.Option(
        None, "--max-prompt-tokens", help="Count the prompts over this many tokens."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
) -> None:
    """Report whether every instance is learnable: exact expert target, tools described, tokens, shares."""
    import json

    from swe_srl.console import output_console
    from swe_srl.records import RecordError
    from swe_srl.trajectories.learnable import check_instances, check_table
    from swe_srl.trajectories.step_writer import iter_step_instances

    try:
        report = check_instances(iter_step_instances(folder), _counter(tokenizer), max_prompt_tokens)
    except RecordError as err:
        fail(str(err))
    output_console().print(check_table(report))
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if report.learnable < report.instances or report.over_limit:
        raise typer.Exit(code=EXIT_FAILED)  # the check ran and its verdict is negative


@trajectories_app.command("replay-check")
def replay_check_cmd(
    file: Path = typer.Argument(
        ..., help="Trajectories: a file (any format the importers read), a collection or a directory."
    ),
    tasks: str = typer.Option(..., "--tasks", help="Suite name (envs/<suite>) or tasks file."),
    sandbox: SandboxKind = typer.Option("local", "--sandbox", help="local | docker"),
    grade: bool = typer.Option(True, "--grade/--no-grade", help="Grade the replayed final patch."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the reports as JSON here."),
    quiet: bool = typer.Option(
        False, "--quiet", help="Print one summary line per trajectory, no step table."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Trajectories replayed at once."),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
    task_budget: float = TASK_BUDGET,
) -> None:
    """Re-execute expert trajectories in SweEnv: per-step observation similarity and final resolution."""
    import json

    from swe_srl.console import output_console
    from swe_srl.engine.interrupt import RunInterrupted
    from swe_srl.engine.replay import ReplayFailure, replay_checks
    from swe_srl.records import RecordError
    from swe_srl.tasks import load_tasks
    from swe_srl.trajectories.importers import import_paths
    from swe_srl.trajectories.replay_check import replay_table

    console = output_console()
    try:
        by_id = {task.instance_id: task for task in load_tasks(tasks)}
        trajectories = list(import_paths([file]))
    except (RecordError, OSError, ValueError) as err:
        fail(str(err))
        return
    missing = sorted({t.instance_id for t in trajectories if t.instance_id not in by_id})
    if missing:  # checked before any replay: a long run must not stop half-way on a bad input
        fail(f"{file}: no task in {tasks} for {len(missing)} trajectory(s): {', '.join(missing)}")

    def show(report) -> None:
        if isinstance(report, ReplayFailure):
            line = f"{report.instance_id}: not replayed ({report.cause}): {report.error}"
            console.print(line, style="red", markup=False)  # the error is text, never rich markup
        elif quiet:  # one unwrapped line each, so a log or grep keeps it whole
            console.print(f"{report.instance_id}: {replay_table(report).caption}", soft_wrap=True)
        else:
            console.print(replay_table(report))

    settings = engine_settings(executor, ray_address, workers, task_budget, 1.0, 0)
    pairs = [(traj, by_id[traj.instance_id]) for traj in trajectories]
    try:
        reports = replay_checks(pairs, sandbox, grade=grade, engine=settings, on_report=show)
    except RunInterrupted as err:
        exit_interrupted(err, resumes=False)
    done = [r for r in reports if not isinstance(r, ReplayFailure)]
    if json_out is not None:
        json_out.write_text(json.dumps([r.to_dict() for r in done], indent=2) + "\n", encoding="utf-8")
    if len(done) < len(reports) or any(r.resolved is False for r in done):
        raise typer.Exit(code=EXIT_FAILED)


def rollout_cmd(
    policy: str = typer.Option(
        ..., "--policy", help="expert[:N] | gold | noop | replay:FILE | openai:... | hf:..."
    ),
    tasks: str = typer.Option(..., "--tasks", help="Suite name (envs/<suite>) or tasks file."),
    out: Path = typer.Option(
        ..., "--out", help="Directory for kept trajectories and rollout.log (a rerun resumes)."
    ),
    attempts: int = typer.Option(
        1, "--attempts", min=1, help="Most attempts per task (stops at the first resolved)."
    ),
    keep: str = typer.Option("resolved", "--keep", help="resolved (rejection sampling) | all"),
    sandbox: SandboxKind = typer.Option("local", "--sandbox", help="local | docker"),
    workers: int = typer.Option(1, "--workers", min=1, help="Tasks run in parallel."),
    max_steps: int = typer.Option(50, "--max-steps", min=1),
    instances: list[str] = INSTANCES,
    json_out: Path | None = typer.Option(None, "--json", help="Also write the summary as JSON here."),
    retry_errors: bool = typer.Option(
        False, "--retry-errors", help="On a rerun, run the attempts masked by infrastructure errors again."
    ),
    executor: ExecutorKind = EXECUTOR,
    ray_address: str = RAY_ADDRESS,
    task_budget: float = TASK_BUDGET,
    task_cpus: float = TASK_CPUS,
    task_memory_gb: float = TASK_MEMORY,
    force_new: bool = FORCE_NEW,
    window: int = WINDOW,
    obs_budget: int = OBS_BUDGET,
    list_earlier: bool = LIST_EARLIER,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> None:
    """Generate verified trajectories by rejection sampling: run, grade, keep only what resolves."""
    import json

    from swe_srl.console import output_console
    from swe_srl.engine.interrupt import RunInterrupted
    from swe_srl.engine.rollout import RolloutConfig, run_rollout
    from swe_srl.engine.rollout_display import RolloutProgress, rollout_table

    config = RolloutConfig(
        policy=policy,
        tasks=tasks,
        out=out,
        attempts=attempts,
        keep=keep,
        sandbox=sandbox,
        workers=workers,
        max_steps=max_steps,
        instances=instance_ids(instances),
        retry_errors=retry_errors,
        force_new=force_new,
        engine=engine_settings(executor, ray_address, workers, task_budget, task_cpus, task_memory_gb),
        context=context_config(window, obs_budget, list_earlier),
        max_in_flight=max_in_flight or None,
    )
    try:
        with RolloutProgress(config) as progress:
            report = run_rollout(config, on_attempt=progress.advance)
    except RunInterrupted as err:
        exit_interrupted(err)
    output_console().print(rollout_table(report))
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(trajectories_app, name="trajectories")
    app.add_typer(steps_app, name="steps")
    app.command("rollout")(rollout_cmd)
