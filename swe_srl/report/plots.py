"""The report's figures as PNG files (matplotlib, Agg backend: no display needed).

Evaluation: overall resolve rate with its 95% Wilson interval, and resolve rate per repository and
per difficulty, one bar per run; a run in progress is hatched and says so. Training: one figure
per quantity (loss, rollout reward, kept fraction), with one axis per method, since an SFT
cross-entropy and a GRPO loss share no scale; the held-out mean step reward of every run on one
axis fixed to the reward's range [-1, 1], so a 0.005 wobble looks like one; and the distribution
of per-instance held-out step rewards when logged. Steps are aligned along SFT -> SRL -> RLVR
chains (``training_runs.chain``). Every axis is labelled. A figure without data is not drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.report.collect import Collection, EvalRun, TrainingRun
from swe_srl.report.groups import group_order, group_rates
from swe_srl.report.training_runs import METHODS

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


def run_name(run: EvalRun | TrainingRun) -> str:
    """A run's label, marked when the run is not finished."""
    finished = run.complete if isinstance(run, EvalRun) else run.finished
    if finished:
        return run.label
    return f"{run.label} (in progress)" if isinstance(run, EvalRun) else f"{run.label} (unfinished)"


def plot_overall(runs: Sequence[EvalRun], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(runs) + 2), 3.5))
    rates = [r.resolve_rate for r in runs]
    # max(0, .): the interval's ends can miss the rate by a rounding error at 0% and 100%
    errors = [
        [max(0.0, r.resolve_rate - r.ci95[0]) for r in runs],
        [max(0.0, r.ci95[1] - r.resolve_rate) for r in runs],
    ]
    bars = ax.bar([run_name(r) for r in runs], rates, yerr=errors, capsize=4, color="tab:blue")
    for bar, run in zip(bars, runs, strict=True):
        if not run.complete:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
        ax.annotate(
            f"{run.resolved}/{run.judged}", (bar.get_x() + bar.get_width() / 2, 0.02), ha="center", fontsize=8
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
        bars = ax.bar([x for x, _ in present], [r.rate for _, r in present], width=width, label=run_name(run))
        if not run.complete:
            for bar in bars:
                bar.set_hatch("//")
        # k/n over every bar: a 0% bar is otherwise invisible
        ax.bar_label(bars, labels=[f"{r.resolved}/{r.total}" for _, r in present], fontsize=7)
    ax.set_xticks(range(len(groups)), groups, rotation=20)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("resolve rate")
    ax.set_title(f"Resolve rate by {'repository' if by == 'repo' else 'difficulty'}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars stay visible
    return _save(fig, path)


@dataclass(frozen=True)
class Quantity:
    """One training figure: which metric, its title, and per method the y label and range."""

    file: str
    title: str
    key: str
    labels: dict[str, str]  # method -> y-axis label (methods without one are not drawn)
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    held_out: bool = False


QUANTITIES = (
    Quantity(
        "train_loss.png",
        "Training loss",
        "loss",
        {"sft": "cross-entropy loss", "srl": "GRPO loss", "rlvr": "GRPO loss"},
    ),
    Quantity(
        "train_reward.png",
        "Mean reward of the sampled rollouts",
        "reward",
        {"srl": "SRL step reward", "rlvr": "outcome reward (1 = resolved)"},
        {"srl": (-1.05, 1.05), "rlvr": (-0.05, 1.05)},
    ),
    Quantity(
        "train_kept_fraction.png",
        "Dynamic sampling: kept fraction of prompt groups",
        "dynamic_sampling/kept_fraction",
        {"srl": "kept fraction"},
        {"srl": (-0.05, 1.05)},
    ),
)
HELD_OUT = Quantity(
    "heldout_step_reward.png",
    "Held-out mean step reward (greedy)",
    "mean_step_reward",
    dict.fromkeys(METHODS, "mean SRL step reward"),
    dict.fromkeys(METHODS, (-1.05, 1.05)),
    held_out=True,
)


def _step_label(runs: Sequence[TrainingRun]) -> str:
    if any(run.offset for run in runs):
        return "optimizer step (a run started from another's model continues its count)"
    return "optimizer step"


def _draw_runs(ax, runs: Sequence[TrainingRun], key: str, held_out: bool) -> bool:
    """One line per run on ``ax``; a dotted line where a chained run starts. False when nothing was drawn."""
    drawn = False
    for run in runs:
        points = run.series(key, held_out=held_out, aligned=True)
        if not points:
            continue
        steps, values = zip(*points, strict=True)
        style = "-" if run.finished else "--"
        ax.plot(steps, values, style, marker="o", markersize=3, label=run_name(run))
        if run.offset:  # where a run continuing another starts, named at the top of the axis
            ax.axvline(run.offset, color="grey", linestyle=":", linewidth=1)
            transform = ax.get_xaxis_transform()
            ax.text(
                run.offset, 0.98, f" {run.label}", transform=transform, fontsize=7, va="top", color="grey"
            )
        drawn = True
    return drawn


def quantity_figure(runs: Sequence[TrainingRun], quantity: Quantity):
    from matplotlib.ticker import MaxNLocator

    """The figure of one quantity: one axis per method that logged it (one axis for held-out scores,
    which share the reward's scale); None when no run logged it."""
    if quantity.held_out:
        groups = [("all", list(runs))]
    else:
        groups = [(m, [r for r in runs if r.method == m]) for m in METHODS if m in quantity.labels]
    groups = [
        (m, rs) for m, rs in groups if any(r.series(quantity.key, held_out=quantity.held_out) for r in rs)
    ]
    if not groups:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(6.5, 2.6 * len(groups) + 0.9), sharex=True, squeeze=False
    )
    for ax, (method, members) in zip(axes[:, 0], groups, strict=True):
        _draw_runs(ax, members, quantity.key, quantity.held_out)
        ax.set_ylabel(quantity.labels.get(method) or quantity.labels.get(members[0].method, quantity.key))
        limits = quantity.limits.get(method) or quantity.limits.get(members[0].method)
        if limits:
            ax.set_ylim(*limits)
        if not quantity.held_out:
            ax.set_title(method.upper(), fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel(_step_label(runs))
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))  # optimizer steps are whole
    fig.suptitle(quantity.title)
    return fig


def plot_quantity(runs: Sequence[TrainingRun], quantity: Quantity, path: Path) -> Path | None:
    fig = quantity_figure(runs, quantity)
    return None if fig is None else _save(fig, path)


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
    figures = []
    for quantity in (*QUANTITIES, HELD_OUT):
        path = plot_quantity(runs, quantity, out / quantity.file)
        if path is not None:
            figures.append(Figure(path, quantity.title, "training"))
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
