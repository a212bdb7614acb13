"""The report's figures as PNG files (matplotlib, Agg backend: no display needed).

Evaluation: overall resolve rate with its 95% Wilson interval, and resolve rate per repository and
per difficulty, one bar per run. Training: loss, reward and kept-fraction curves, the held-out
mean step reward, and the distribution of per-instance held-out step rewards when logged.
A figure without data is not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from swe_srl.report.collect import Collection, EvalRun, TrainingRun
from swe_srl.report.groups import group_order, group_rates

# PNG text chunks would otherwise carry matplotlib's version and home page into the report.
_PNG_METADATA = {"Software": None}


@dataclass(frozen=True)
class Figure:
    """One written PNG and what it shows."""

    path: Path
    title: str
    section: str  # "eval" | "training"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=_PNG_METADATA)
    _pyplot().close(fig)
    return path


def plot_overall(runs: Sequence[EvalRun], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(runs) + 2), 3.5))
    rates = [r.resolve_rate for r in runs]
    # max(0, .): the interval's ends can miss the rate by a rounding error at 0% and 100%
    errors = [
        [max(0.0, r.resolve_rate - r.ci95[0]) for r in runs],
        [max(0.0, r.ci95[1] - r.resolve_rate) for r in runs],
    ]
    bars = ax.bar([r.label for r in runs], rates, yerr=errors, capsize=4, color="tab:blue")
    for bar, run in zip(bars, runs, strict=True):
        ax.annotate(
            f"{run.resolved}/{run.total}", (bar.get_x() + bar.get_width() / 2, 0.02), ha="center", fontsize=8
        )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("resolve rate")
    ax.set_title("Resolve rate (error bars: 95% Wilson interval)")
    ax.tick_params(axis="x", labelrotation=20)
    return _save(fig, path)


def plot_breakdown(runs: Sequence[EvalRun], by: str, path: Path) -> Path:
    """Grouped bars: one group per repository (or difficulty), one bar per run."""
    plt = _pyplot()
    per_run = [{g.group: g for g in group_rates(run, by)} for run in runs]
    groups = group_order({name for rates in per_run for name in rates}, by)
    width = 0.8 / max(1, len(runs))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(groups) * max(1, len(runs)) ** 0.5 + 2), 3.8))
    for index, (run, rates) in enumerate(zip(runs, per_run, strict=True)):
        xs = [g + index * width - 0.4 + width / 2 for g in range(len(groups))]
        present = [(x, rates[name]) for x, name in zip(xs, groups, strict=True) if name in rates]
        bars = ax.bar([x for x, _ in present], [r.rate for _, r in present], width=width, label=run.label)
        # k/n over every bar: a 0% bar is otherwise invisible
        ax.bar_label(bars, labels=[f"{r.resolved}/{r.total}" for _, r in present], fontsize=7)
    ax.set_xticks(range(len(groups)), groups, rotation=20)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("resolve rate")
    ax.set_title(f"Resolve rate by {'repository' if by == 'repo' else 'difficulty'}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars stay visible
    return _save(fig, path)


def plot_curves(runs: Sequence[TrainingRun], keys: Sequence[str], title: str, path: Path, *, held_out=False):
    """One line per run and metric; None when no run logged any of ``keys``."""
    lines = [(run, key, run.series(key, held_out=held_out)) for run in runs for key in keys]
    lines = [line for line in lines if line[2]]
    if not lines:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for run, key, points in lines:
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, marker="o", markersize=3, label=f"{run.label}: {key}")
    ax.set_xlabel("optimizer step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_step_reward_hist(runs: Sequence[TrainingRun], path: Path) -> Path | None:
    """Histogram of per-instance held-out step rewards in [-1, 1], one series per run and model."""
    series = {}
    for run in runs:
        for item in run.step_rewards:
            series.setdefault(f"{run.label}: {item.model}", []).append(item.reward)
    if not series:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    bins = [-1.0 + 0.1 * i for i in range(21)]
    ax.hist(list(series.values()), bins=bins, label=list(series), alpha=0.8)
    ax.set_xlabel("step reward (-1: format error, 1: expert's action)")
    ax.set_ylabel("held-out instances")
    ax.set_title("Held-out step rewards")
    ax.legend(fontsize=7)
    return _save(fig, path)


def _eval_figures(runs: Sequence[EvalRun], out: Path) -> list[Figure]:
    return [
        Figure(plot_overall(runs, out / "eval_resolve_rate.png"), "Resolve rate", "eval"),
        Figure(
            plot_breakdown(runs, "repo", out / "eval_by_repository.png"), "Resolve rate by repository", "eval"
        ),
        Figure(
            plot_breakdown(runs, "difficulty", out / "eval_by_difficulty.png"),
            "Resolve rate by difficulty",
            "eval",
        ),
    ]


def _training_figures(runs: Sequence[TrainingRun], out: Path) -> list[Figure]:
    wanted = (
        ("train_loss.png", "Training loss", ("loss",), False),
        ("train_reward.png", "Mean SRL reward of the sampled rollouts", ("reward",), False),
        (
            "train_kept_fraction.png",
            "Dynamic sampling: kept fraction of prompt groups",
            ("dynamic_sampling/kept_fraction",),
            False,
        ),
        ("heldout_step_reward.png", "Held-out mean step reward (greedy)", ("mean_step_reward",), True),
    )
    figures = []
    for name, title, keys, held_out in wanted:
        path = plot_curves(runs, keys, title, out / name, held_out=held_out)
        if path is not None:
            figures.append(Figure(path, title, "training"))
    hist = plot_step_reward_hist(runs, out / "heldout_step_reward_hist.png")
    if hist is not None:
        figures.append(Figure(hist, "Held-out step reward distribution", "training"))
    return figures


def write_figures(collection: Collection, out: Path) -> list[Figure]:
    """Draw every figure the collection supports into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    if collection.eval_runs:
        figures += _eval_figures(collection.eval_runs, out)
    if collection.training_runs:
        figures += _training_figures(collection.training_runs, out)
    return figures
