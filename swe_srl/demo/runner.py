"""Running the demo's stages: done-markers, skipping, failure messages, progress, the closing summary.

A stage is done when ``OUT/stages/<name>.done.json`` exists and its declared outputs are still there;
a stage that is not done first deletes its partial outputs (eval stages keep them and resume).
When a stage runs again, every stage that reads its outputs (``Stage.after``, transitively) loses
its marker and outputs first, so it runs again too, now or in a later run.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.records import SweSrlError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path("swe-srl-demo")


class DemoError(SweSrlError):
    """A demo stage failed, or ``OUT`` belongs to a demo run in another mode."""


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run; ``fast`` is the smaller one the tests use.

    Training settings come from the tiny-model CPU configs (``configs/sft_tiny_cpu.yaml``,
    ``configs/srl_tiny_cpu.yaml``), so the recipe is written once; the demo only overrides the
    sizes for ``--fast`` (2 steps each, smaller rollouts) with ``--set``-style assignments.
    """

    out: Path
    fast: bool = False
    suite: str = "bundled"
    trajectories: Path = REPO_ROOT / "trajectories"
    sft_config: Path = REPO_ROOT / "configs" / "sft_tiny_cpu.yaml"
    srl_config: Path = REPO_ROOT / "configs" / "srl_tiny_cpu.yaml"
    workers: int = 2
    validation_fraction: float = 0.15
    sft_overrides: tuple[str, ...] = ()  # the full demo trains exactly as the tiny CPU configs say
    srl_overrides: tuple[str, ...] = ()
    held_out_rows: int = 16
    trained_max_steps: int = 6
    trained_max_tokens: int = 96

    @classmethod
    def create(cls, out: Path = DEFAULT_OUT, *, fast: bool = False, **changes: Any) -> DemoConfig:
        """The full demo (bundled suite), or with ``fast`` the sample suite and 2 training steps each."""
        if fast:
            small = dict(
                suite="sample",
                sft_overrides=("sft.max_steps=2",),
                srl_overrides=(
                    "srl.max_steps=2",
                    "srl.eval_steps=0",
                    "srl.num_generations=2",
                    "srl.per_device_train_batch_size=2",
                    "srl.max_completion_length=32",
                    "srl.dynamic_sampling_max_rounds=1",
                    "eval.max_new_tokens=32",
                ),
                held_out_rows=4,
                trained_max_steps=2,
                trained_max_tokens=32,
            )
            changes = {**small, **changes}
        return cls(out=Path(out), fast=fast, **changes)

    def mode(self) -> dict[str, Any]:
        """What a rerun must share with the run that made ``out``."""
        return {"fast": self.fast, "suite": self.suite}


@dataclass(frozen=True)
class StageResult:
    """What a stage reports: one line for people, facts for the marker file."""

    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    run: Callable[[DemoContext], StageResult]
    outputs: tuple[str, ...]  # paths under OUT that must exist for the stage to count as done
    fresh: bool = True  # delete the outputs before (re)running; eval stages resume instead
    quiet: bool = False  # send stdout/stderr (trainer logs, warnings) to OUT/logs/<stage>.log
    after: tuple[str, ...] = ()  # stages whose outputs this one reads: when one reruns, so does this


@dataclass(frozen=True)
class StageOutcome:
    name: str
    status: str  # "ran" | "skipped"
    seconds: float
    summary: str


@dataclass
class DemoContext:
    """The run's configuration, where things go, and the live progress display."""

    config: DemoConfig
    console: Any
    advance: Callable[[str], None] = lambda text: None  # progress text within a stage

    def path(self, *parts: str) -> Path:
        return self.config.out.joinpath(*parts)


@dataclass(frozen=True)
class DemoResult:
    out: Path
    stages: tuple[StageOutcome, ...]
    seconds: float
    html: Path | None
    replay_command: str


# --------------------------------------------------------------------------------------------
# Markers


def _marker(ctx: DemoContext, stage: Stage) -> Path:
    return ctx.path("stages", f"{stage.name}.done.json")


def is_done(ctx: DemoContext, stage: Stage) -> bool:
    """Done when the marker exists and every declared output is still there."""
    return _marker(ctx, stage).is_file() and all(ctx.path(o).exists() for o in stage.outputs)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def check_mode(config: DemoConfig) -> None:
    """Refuse to mix a fast and a full run (or two suites) in one output folder."""
    manifest = config.out / "demo.json"
    if manifest.is_file():
        recorded = json.loads(manifest.read_text(encoding="utf-8")).get("mode")
        if recorded != config.mode():
            raise DemoError(
                f"{config.out} holds a demo run with {recorded}, not {config.mode()}: "
                "use another --out, or delete the folder"
            )
    _write_json(manifest, {"mode": config.mode(), "config": asdict(config)})


# --------------------------------------------------------------------------------------------
# Running stages


@contextlib.contextmanager
def _captured(path: Path, enabled: bool):
    """Send stdout and stderr (trainer logs, warnings, progress bars) to ``path`` when enabled."""
    if not enabled:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        path.open("a", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        yield


def _remove(ctx: DemoContext, stage: Stage) -> None:
    _marker(ctx, stage).unlink(missing_ok=True)
    for output in stage.outputs:
        target = ctx.path(output)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def dependents(stage: Stage, stages: Sequence[Stage]) -> list[Stage]:
    """Every stage that reads ``stage``'s outputs, directly or through others, in pipeline order."""
    names = {stage.name}
    grew = True
    while grew:
        grew = False
        for other in stages:
            if other.name not in names and names & set(other.after):
                names.add(other.name)
                grew = True
    return [other for other in stages if other.name in names and other.name != stage.name]


def run_stage(
    ctx: DemoContext, stage: Stage, number: int, total: int, *, downstream: Sequence[Stage] = ()
) -> StageOutcome:
    """Run one stage unless it is done; a failure becomes a :class:`DemoError` naming the stage.

    Before it runs, the ``downstream`` stages (those reading its outputs) lose their markers and
    outputs: whatever they made from the old outputs is out of date, in this run or a later one.
    """
    label = f"[{number}/{total}] {stage.title}"
    if is_done(ctx, stage):
        summary = json.loads(_marker(ctx, stage).read_text(encoding="utf-8")).get("summary", "")
        ctx.console.print(
            f"[dim]{label}: done before, skipped ({summary})[/dim]", highlight=False, soft_wrap=True
        )
        return StageOutcome(stage.name, "skipped", 0.0, summary)
    for later in downstream:
        _remove(ctx, later)
    _marker(ctx, stage).unlink(missing_ok=True)
    if stage.fresh:  # what a killed or failed attempt left behind (eval stages resume from it instead)
        _remove(ctx, stage)
    log = ctx.path("logs", f"{stage.name}.log")
    start = time.monotonic()
    try:
        with _captured(log, stage.quiet):
            result = stage.run(ctx)
    except Exception as err:
        detail = "".join(traceback.format_exception_only(type(err), err)).strip()
        _write_json(ctx.path("stages", f"{stage.name}.failed.json"), {"error": detail})
        hint = f" (its log: {log})" if stage.quiet else ""
        raise DemoError(
            f"stage {number}/{total} '{stage.name}' ({stage.title}) failed: {detail}{hint}\n"
            f"Fix the cause and run the same command again: finished stages are skipped."
        ) from err
    seconds = round(time.monotonic() - start, 1)
    ctx.path("stages", f"{stage.name}.failed.json").unlink(missing_ok=True)
    _write_json(
        _marker(ctx, stage),
        {"stage": stage.name, "summary": result.summary, "seconds": seconds, "facts": result.facts},
    )
    ctx.console.print(
        f"[green]{label}[/green] ({seconds:.0f} s): {result.summary}", highlight=False, soft_wrap=True
    )
    return StageOutcome(stage.name, "ran", seconds, result.summary)


def run_demo(config: DemoConfig, console=None) -> DemoResult:
    """Run every stage not yet done, with a progress display; raise :class:`DemoError` on failure."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from swe_srl.console import output_console
    from swe_srl.demo.stages import STAGES, replay_command

    console = console or output_console(sys.stdout)
    config.out.mkdir(parents=True, exist_ok=True)
    check_mode(config)
    start = time.monotonic()
    outcomes: list[StageOutcome] = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("demo", total=len(STAGES))
        ctx = DemoContext(config, progress.console)
        for number, stage in enumerate(STAGES, start=1):
            progress.update(bar, description=stage.title)
            ctx.advance = lambda text, title=stage.title: progress.update(bar, description=f"{title}: {text}")
            later = dependents(stage, STAGES)
            outcomes.append(run_stage(ctx, stage, number, len(STAGES), downstream=later))
            progress.advance(bar)
    html = config.out / "report" / "report.html"
    return DemoResult(
        config.out,
        tuple(outcomes),
        round(time.monotonic() - start, 1),
        html if html.is_file() else None,
        replay_command(config.out),
    )


HONEST_NOTE = (
    "The trained policy is a 2-layer model trained for a few minutes on CPU: resolving no task is the "
    "expected, honest result. The demo shows the pipeline working end to end (valid tasks, expert steps, "
    "SFT then SRL with logged step rewards, graded evaluation); resolving tasks takes a real model "
    "(the paper: Qwen2.5-Coder-7B-Instruct) trained on a GPU."
)


def print_summary(result: DemoResult, console=None) -> None:
    """Resolve rates, training numbers, timing, and what to open next (long lines unwrapped: copyable)."""
    from swe_srl.console import output_console
    from swe_srl.report import collect
    from swe_srl.report.tables import eval_summary, to_rich, training_summary

    console = console or output_console()
    collection = collect(result.out)
    if collection.eval_runs:
        console.print(to_rich(eval_summary(collection.eval_runs)))
    if collection.training_runs:
        console.print(to_rich(training_summary(collection.training_runs)))
    trained = [run for run in collection.eval_runs if run.path.name == "trained"]
    if trained:
        console.print(
            f"trained policy: resolved {trained[0].resolved}/{trained[0].total} task(s).",
            style="yellow",
            highlight=False,
        )
    console.print(HONEST_NOTE, style="yellow", highlight=False)
    ran = sum(s.status == "ran" for s in result.stages)
    lines = [
        f"demo finished in {result.seconds:.0f} s ({ran} stage(s) ran, {len(result.stages) - ran} skipped); "
        f"everything is in {result.out}",
        f"report: {result.html}" if result.html is not None else "",
        f"replay the trained policy beside the expert: {result.replay_command}"
        if result.replay_command
        else "",
    ]
    for line in filter(None, lines):
        console.print(line, highlight=False, soft_wrap=True)
