"""Training curves as PNG files in the run folder, drawn from RUN/metrics.jsonl (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

# (file name, record kind, metric keys drawn on one figure)
FIGURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("train_loss.png", "train", ("loss", "train_loss")),
    (
        "train_reward.png",
        "train",
        ("reward", "rewards/srl_reward/mean", "dynamic_sampling/kept_fraction", "rlvr/resolved_rate"),
    ),
    ("heldout.png", "eval", ("mean_step_reward", "exact_match_rate", "format_error_rate")),
)


def plot_run(run: str | Path) -> list[Path]:
    """Draw each figure that has data; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from swe_srl.train.metrics import read_jsonl

    run = Path(run)
    records = read_jsonl(run / "metrics.jsonl")
    written = []
    for name, kind, keys in FIGURES:
        series = {
            key: [(r["step"], r[key]) for r in records if r.get("kind") == kind and key in r] for key in keys
        }
        series = {k: v for k, v in series.items() if v}
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for key, points in series.items():
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, marker="o", markersize=3, label=key)
        ax.set_xlabel("optimizer step")
        ax.set_title(f"{run.name}: {name.removesuffix('.png').replace('_', ' ')}")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(run / name, dpi=100)
        plt.close(fig)
        written.append(run / name)
    return written
