"""The demo's stages: each one calls the library that does the work and returns a one-line summary.

Stage functions take the :class:`~swe_srl.demo.runner.DemoContext` and write only under ``OUT``;
``STAGES`` lists them in order with the outputs that prove each one done.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from swe_srl.demo.runner import DemoContext, DemoError, Stage, StageResult

TRAJECTORIES = "trajectories"
STEPS = "steps"
TINY = "models/tiny"
SFT_RUN = "train/sft"
SRL_RUN = "train/srl"
REPORT = "report"


def validate_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.tasks import load_tasks
    from swe_srl.tasks.validate import validate_task

    tasks = load_tasks(ctx.config.suite)
    results = []
    with ThreadPoolExecutor(ctx.config.workers) as pool:
        for future in as_completed(pool.submit(validate_task, task, "local") for task in tasks):
            results.append(future.result())
            ctx.advance(f"{len(results)}/{len(tasks)} tasks")
    results.sort(key=lambda v: v.instance_id)
    out = ctx.path("validate", "validation.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(v.to_dict()) + "\n" for v in results), encoding="utf-8")
    bad = [f"{v.instance_id}: {'; '.join(v.problems)}" for v in results if not v.valid]
    if bad:
        raise DemoError(
            f"{len(bad)} of {len(tasks)} tasks of suite {ctx.config.suite!r} are invalid: " + " | ".join(bad)
        )
    return StageResult(
        f"{len(tasks)}/{len(tasks)} tasks of suite {ctx.config.suite!r} valid", {"tasks": len(tasks)}
    )


def import_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.trajectories import import_to_directory

    source = ctx.config.trajectories
    report = import_to_directory([source], ctx.path(TRAJECTORIES), skip_bad=True)
    if report.imported == 0:
        reasons = "; ".join(report.skipped[:3]) or "no trajectory files"
        raise DemoError(f"no expert trajectories imported from {source} ({reasons})")
    formats = ", ".join(f"{k} {v}" for k, v in sorted(report.formats.items()))
    skipped = f", skipped {len(report.skipped)} malformed" if report.skipped else ""
    return StageResult(
        f"{report.imported} expert trajectories ({formats}) from {source}{skipped}",
        {"imported": report.imported, "skipped": report.skipped},
    )


def steps_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.trajectories import StepOptions, build_step_dataset, import_paths

    options = StepOptions(validation_fraction=ctx.config.validation_fraction)
    stats = build_step_dataset(import_paths([ctx.path(TRAJECTORIES)]), ctx.path(STEPS), options)
    train, validation = stats.instances["train"], stats.instances["validation"]
    if not train or not validation:
        raise DemoError(
            f"the by-trajectory split left a split empty (train {train}, validation {validation} instances "
            f"from {stats.trajectories_in} trajectories): the demo needs more shipped trajectories"
        )
    return StageResult(
        f"{stats.total_instances} step instances: {train} train / {validation} validation "
        f"({stats.trajectories['train']} / {stats.trajectories['validation']} trajectories)",
        {"train": train, "validation": validation},
    )


def model_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.tasks import resolve_spec
    from swe_srl.train.tiny_model import TinyModelSpec, init_tiny

    corpus = sorted(ctx.path(TRAJECTORIES).glob("*.json"))
    tasks_file = resolve_spec(ctx.config.suite)
    corpus += [tasks_file] if tasks_file is not None else []
    spec = TinyModelSpec()
    init_tiny(ctx.path(TINY), corpus=corpus, spec=spec)
    return StageResult(
        f"tiny Qwen2 ({spec.num_layers} layers, hidden {spec.hidden_size}) + BPE tokenizer "
        f"trained on {len(corpus)} files",
        {"corpus_files": len(corpus)},
    )


def train_config(ctx: DemoContext, method: str, model_path: Path):
    """The tiny CPU config of ``method`` (sft | srl) with the demo's model, data and sizes set."""
    from swe_srl.train.config import load_config

    cfg = ctx.config
    path, overrides = (
        (cfg.sft_config, cfg.sft_overrides) if method == "sft" else (cfg.srl_config, cfg.srl_overrides)
    )
    config = load_config(path, [f"data.max_eval_rows={cfg.held_out_rows}", *overrides])
    config.model.path = str(model_path)  # set, not --set: a path is not parsed as YAML
    config.data.path = str(ctx.path(STEPS))
    return config


def _held_out(history: list[dict]) -> str:
    if not history:
        return "no held-out score"
    last = history[-1]
    return (
        f"held-out mean step reward {last['mean_step_reward']:.3f}, "
        f"format errors {last['format_error_rate']:.0%}"
    )


def sft_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.report.collect import read_training_run
    from swe_srl.train.sft import run_sft

    config = train_config(ctx, "sft", ctx.path(TINY))
    ctx.advance(f"{config.sft.trl['max_steps']} steps")
    result = run_sft(config, ctx.path(SFT_RUN))

    run = read_training_run(ctx.path(SFT_RUN))
    held = [p.values for p in run.held_out if "mean_step_reward" in p.values]
    return StageResult(
        f"{config.sft.trl['max_steps']} steps, train loss {result.train_loss:.2f}; {_held_out(held)}",
        {"train_loss": result.train_loss, "eval_loss": result.eval_loss},
    )


def srl_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.report.collect import read_training_run
    from swe_srl.train.srl import run_srl

    config = train_config(ctx, "srl", ctx.path(SFT_RUN, "final"))
    ctx.advance(f"{config.srl.trl['max_steps']} steps")
    result = run_srl(config, ctx.path(SRL_RUN))

    kept = read_training_run(ctx.path(SRL_RUN)).series("dynamic_sampling/kept_fraction")
    kept_text = (
        f"kept fraction per step {[round(v, 2) for _, v in kept]}" if kept else "no kept fraction logged"
    )
    steps, group = config.srl.trl["max_steps"], config.srl.trl["num_generations"]
    return StageResult(
        f"{steps} GRPO steps (G={group}) from the SFT model, {kept_text}; {_held_out(result.eval_history)}",
        {"eval_history": result.eval_history},
    )


def score_stage(ctx: DemoContext) -> StageResult:
    """Greedy completions of each model on the held-out steps, every one scored with the SRL reward."""
    from swe_srl.report.step_rewards import FILE_NAME, StepReward, write_step_rewards
    from swe_srl.reward import step_reward
    from swe_srl.train.common import load_model_and_tokenizer
    from swe_srl.train.data import held_out_rows, load_validation
    from swe_srl.train.metrics import evaluate_held_out

    config = train_config(ctx, "srl", ctx.path(TINY))  # the prompts and lengths SRL trained with
    rows = load_validation(config.data)  # the very rows the trainers' held-out evaluation scores
    models = (
        ("init", ctx.path(TINY)),
        ("sft", ctx.path(SFT_RUN, "final")),
        ("srl", ctx.path(SRL_RUN, "final")),
    )
    scored: list[StepReward] = []
    means = []
    for name, path in models:
        ctx.advance(name)
        model, tokenizer = load_model_and_tokenizer(config.model, str(path))
        metrics, completions = evaluate_held_out(
            model, tokenizer, held_out_rows(rows), config.eval.max_new_tokens, config.eval.batch_size
        )
        scored += [
            StepReward(
                name, row["instance_id"], row["step_index"], float(step_reward(completion, row["target"]))
            )
            for row, completion in zip(rows, completions, strict=True)
        ]
        means.append(f"{name} {metrics.mean_step_reward:.3f}")
    write_step_rewards(ctx.path(SRL_RUN, FILE_NAME), scored)
    return StageResult(
        f"mean step reward on {len(rows)} held-out steps: {', '.join(means)}", {"rows": len(rows)}
    )


def trained_subset(suite: str) -> tuple[str, ...]:
    """The first task of each repository: every repository is tried, at a fraction of the cost."""
    from swe_srl.tasks import load_tasks

    first: dict[str, str] = {}
    for task in load_tasks(suite, fill_base_commit=False):
        first.setdefault(task.repo, task.instance_id)
    return tuple(first.values())


def _evaluate(ctx: DemoContext, name: str, policy: str, **options) -> StageResult:
    from swe_srl.eval.runner import EvalConfig, run_eval

    config = EvalConfig(
        tasks=ctx.config.suite,
        policy=policy,
        out=ctx.path("eval", name),
        workers=ctx.config.workers,
        **options,
    )
    finished = []

    def on_result(result) -> None:
        finished.append(result)
        ctx.advance(f"{len(finished)} tasks graded, last {result.instance_id}: {result.status}")

    report = run_eval(config, on_result)
    errors = f", {report.statuses['error']} errors" if report.statuses.get("error") else ""
    return StageResult(
        f"{policy}: resolved {report.resolved}/{report.total} = {report.resolve_rate:.1%}{errors}",
        {"resolved": report.resolved, "total": report.total, "statuses": report.statuses},
    )


def eval_gold_stage(ctx: DemoContext) -> StageResult:
    return _evaluate(ctx, "gold", "gold")


def eval_noop_stage(ctx: DemoContext) -> StageResult:
    return _evaluate(ctx, "noop", "noop")


def eval_trained_stage(ctx: DemoContext) -> StageResult:
    cfg = ctx.config
    subset = trained_subset(cfg.suite)
    result = _evaluate(
        ctx,
        "trained",
        f"hf:{ctx.path(SRL_RUN, 'final').resolve()}",
        instances=subset,
        max_steps=cfg.trained_max_steps,
        max_tokens=cfg.trained_max_tokens,
    )
    note = (
        f" on {len(subset)} task(s), the first of each repository, at most {cfg.trained_max_steps} steps each"
    )
    return StageResult(result.summary + note, result.facts)


def report_stage(ctx: DemoContext) -> StageResult:
    from swe_srl.report import make_report

    files = make_report(ctx.config.out, ctx.path(REPORT), quiet=True)
    return StageResult(f"{len(files.pngs)} figures and {files.html}", {"pngs": [str(p) for p in files.pngs]})


def replay_command(out: Path) -> str:
    """``swe-srl replay`` of a trained-policy episode beside the expert's trajectory of the same task."""
    from swe_srl.records import RecordError
    from swe_srl.trajectories import read_trajectory

    experts: dict[str, Path] = {}
    for path in sorted((out / TRAJECTORIES).glob("*.json")):
        try:
            experts.setdefault(read_trajectory(path).instance_id, path)
        except RecordError:
            continue
    fallback = ""
    for run in ("trained", "gold"):
        for path in sorted((out / "eval" / run / "trajectories").glob("*.traj.json")):
            try:
                expert = experts.get(read_trajectory(path).instance_id)
            except RecordError:
                continue
            if expert is not None:
                return f"swe-srl replay {path} --compare {expert}"
            fallback = fallback or f"swe-srl replay {path}"
    return fallback


STAGES = (
    Stage("validate", "validate the tasks in the local sandbox", validate_stage, ("validate",)),
    Stage("import", "import the shipped expert trajectories", import_stage, (TRAJECTORIES,)),
    Stage("steps", "build SRL step instances", steps_stage, (STEPS,), after=("import",)),
    Stage("model", "create the tiny model", model_stage, (TINY,), quiet=True, after=("import",)),
    Stage("sft", "SFT warm-up", sft_stage, (SFT_RUN,), quiet=True, after=("steps", "model")),
    Stage("srl", "SRL training", srl_stage, (SRL_RUN,), quiet=True, after=("sft",)),
    Stage(
        "score",
        "score held-out steps",
        score_stage,
        (f"{SRL_RUN}/heldout_rewards.jsonl",),
        quiet=True,
        after=("srl",),
    ),
    Stage("eval-gold", "evaluate the gold patches", eval_gold_stage, ("eval/gold",), fresh=False),
    Stage("eval-noop", "evaluate doing nothing", eval_noop_stage, ("eval/noop",), fresh=False),
    Stage(
        "eval-trained",
        "evaluate the trained model",
        eval_trained_stage,
        ("eval/trained",),
        fresh=False,
        quiet=True,
        after=("srl",),
    ),
)
STAGES += (Stage("report", "write the report", report_stage, (REPORT,), after=tuple(s.name for s in STAGES)),)
