"""One training run from start to end, the same for SFT, SRL and RLVR.

    check --out (refused if it holds a run, unless --resume)  ->  TRL arguments (the distributed
    state starts)  ->  config and launch record (main process)  ->  model (after the process group)
    ->  trainer from the method's ``build``  ->  train (Ctrl-C: checkpoint and stop)
    ->  RUN/final  ->  curves (main process)

The method modules (``sft``, ``srl``, ``rlvr``) supply only what differs: their datasets, reward
and trainer class, through ``build(ctx)``. Every process of a launch runs this function; only the
main process writes files beside the run, and every collective (model save, held-out
evaluation) is entered by all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swe_srl.train.checkpoints import ResumePoint, resume_point, set_aside
from swe_srl.train.common import RunPaths
from swe_srl.train.config import TrainConfig
from swe_srl.train.data import HeldOutRow


@dataclass
class BuildContext:
    """What a method's ``build`` receives to construct its trainer."""

    config: TrainConfig
    paths: RunPaths
    args: Any  # the TRL config (trl.SFTConfig / trl.GRPOConfig)
    model: Any
    tokenizer: Any
    callbacks: list = field(default_factory=list)  # logging, evaluation, progress, interruption


@dataclass(frozen=True)
class TrainingOutcome:
    """What ``run_training`` produced."""

    run: Path
    final_model: Path | None  # None when the run was interrupted before the end
    global_step: int
    interrupted: bool
    train_loss: float | None
    eval_history: list[dict]
    trainer: Any = field(repr=False, compare=False)

    @property
    def checkpoint(self) -> Path | None:
        """The checkpoint an interrupted run saved, to resume from."""
        return self.run / f"checkpoint-{self.global_step}" if self.interrupted else None


def run_training(
    method: str,
    config: TrainConfig,
    out: str | Path,
    build: Callable[[BuildContext], Any],
    *,
    resume: bool = False,
    model_path: str = "",
    held_out: list[HeldOutRow] | None = None,
    managed_args: dict[str, Any] | None = None,
) -> TrainingOutcome:
    """Train ``method`` into ``out``; ``held_out`` rows are scored while training (SFT, SRL)."""
    from accelerate import PartialState
    from transformers import PrinterCallback
    from transformers import ProgressCallback as TqdmCallback

    from swe_srl.train.common import (
        accept_indexed_cpu_locations,
        check_run_folder,
        is_main_process,
        launch_record,
        load_dtype,
        load_for_training,
        prepare_run,
        require_model_folder,
        save_final,
        trainer_args,
        write_launch,
    )
    from swe_srl.train.plots import plot_run
    from swe_srl.train.progress import quiet_libraries

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_libraries()
    paths = check_run_folder(out, resume=resume)
    # Checked before the run folder is written, so that a typo leaves nothing a rerun would refuse.
    if model_path:
        require_model_folder(model_path, f"--init ({method}.init)")
    else:
        require_model_folder(config.model.path, "--model (model.path)")
    args = trainer_args(method, config, paths, **(managed_args or {}))
    if args.device.type == "cpu" and args.world_size > 1:  # starts the process group (and DeepSpeed/FSDP)
        accept_indexed_cpu_locations()
    launch = launch_record(args, load_dtype(config, args))
    _announce_plan(method, config, args, model_path)
    point = resume_point(paths.root) if resume else ResumePoint(None)
    checkpoint = str(point.checkpoint) if point.checkpoint else None
    # Every process has looked at the run folder before the main process writes to it (the
    # rendezvous does this for a process's first run; a second run in the same process needs it).
    PartialState().wait_for_everyone()
    prepare_run(paths, config)
    if resume and is_main_process():
        _prepare_resume(paths, point)
    PartialState().wait_for_everyone()
    model, tokenizer = load_for_training(config, args, paths, model_path)

    callbacks, evaluator, interrupt = _callbacks(method, config, paths, tokenizer, held_out)
    trainer = build(BuildContext(config, paths, args, model, tokenizer, callbacks))
    trainer.remove_callback(PrinterCallback)  # one raw dict per log; ProgressCallback prints lines
    trainer.remove_callback(TqdmCallback)
    if evaluator is not None:
        evaluator.trainer = trainer
    write_launch(paths, launch, trainer)

    with interrupt:
        output = trainer.train(resume_from_checkpoint=checkpoint)
    step = trainer.state.global_step
    history = evaluator.history if evaluator is not None else []
    if interrupt.stopped_at is not None:
        return TrainingOutcome(paths.root, None, step, True, None, history, trainer)
    final = save_final(trainer, tokenizer, paths)
    if is_main_process():
        plot_run(paths.root)
    PartialState().wait_for_everyone()  # every process returns once the run folder is complete
    return TrainingOutcome(paths.root, final, step, False, float(output.training_loss), history, trainer)


def _prepare_resume(paths: RunPaths, point: ResumePoint) -> None:
    """Set incomplete checkpoints aside (reported) and drop metrics logged after the resume point."""
    from swe_srl.train.common import announce
    from swe_srl.train.metrics import truncate_after

    for item, target in set_aside(paths.root, point):
        announce(f"--resume: {item.folder.name} is incomplete ({item.missing}); moved to {target}")
    where = point.checkpoint.name if point.checkpoint else "step 0 (no complete checkpoint)"
    announce(f"--resume: continuing from {where}")
    truncate_after(paths.metrics, point.step if point.checkpoint else -1)


def _callbacks(method: str, config: TrainConfig, paths: RunPaths, tokenizer, held_out):
    """The run's callbacks in order (logging, held-out evaluation, Ctrl-C, progress last: it closes
    the bar after the final evaluation), the evaluator (or None) and the interrupt handler."""
    from swe_srl.train.interrupt import InterruptCallback
    from swe_srl.train.metrics import HeldOutEvalCallback, JsonlLogCallback
    from swe_srl.train.progress import ProgressCallback, format_eval_line

    progress = ProgressCallback()
    log = JsonlLogCallback(paths.metrics, paths.tensorboard)
    interrupt = InterruptCallback()
    callbacks: list = [log]
    evaluator = None
    if held_out and config.eval.enabled:
        every = int(config.section(method).trl.get("eval_steps") or 0)
        best = paths.best if config.eval.keep_best > 0 else None
        evaluator = HeldOutEvalCallback(log, held_out, tokenizer, config.eval, every, best)
        log.echo = lambda step, record: progress.print(format_eval_line(step, record))
        callbacks.append(evaluator)
    return [*callbacks, interrupt, progress], evaluator, interrupt


def _announce_plan(method: str, config: TrainConfig, args, model_path: str) -> None:
    """One line with the batch, the steps and the checkpoint disk this run will need (main process)."""
    import dataclasses

    from swe_srl.train.common import announce
    from swe_srl.train.plan import launch_of, plan_line, plan_run

    source = Path(model_path or config.model.path)
    if (source / "adapter_config.json").is_file():
        import json

        source = Path(json.loads((source / "adapter_config.json").read_text())["base_model_name_or_path"])
    if not (source / "config.json").is_file():
        return
    planned = dataclasses.replace(config, model=dataclasses.replace(config.model, path=str(source)))
    planned.rlvr = dataclasses.replace(config.rlvr, init="")
    announce(plan_line(plan_run(method, planned, launch_of(args))))
