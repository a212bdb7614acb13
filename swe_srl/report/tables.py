"""The report's tables as plain data (:class:`TableData`), rendered by rich here and by ``html.py``.

Keeping cells as strings in one neutral shape means the terminal and the HTML page always show
the same numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from swe_srl.report.collect import Collection, EvalRun, TrainingRun
from swe_srl.report.groups import GroupRate, group_order, group_rates

DASH = "-"


@dataclass(frozen=True)
class TableData:
    """A titled table of text cells; ``numeric`` columns are right-aligned."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    caption: str = ""

    def is_numeric(self, index: int) -> bool:
        return index < len(self.numeric) and self.numeric[index]


def percent(value: float) -> str:
    return f"{value:.1%}"


def rate_cell(rate: GroupRate | None) -> str:
    return DASH if rate is None else f"{rate.resolved}/{rate.total} ({percent(rate.rate)})"


def _number(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}g}"


def short_policy(policy: str, keep: int = 3) -> str:
    """``hf:/long/path/to/run/final`` as ``hf:.../to/run/final``: the informative end of a path."""
    kind, sep, arg = policy.partition(":")
    parts = arg.split("/")
    if not sep or len(parts) <= keep + 1:
        return policy
    return f"{kind}:.../{'/'.join(parts[-keep:])}"


def eval_summary(runs: Sequence[EvalRun]) -> TableData:
    """One row per run; the suite goes in the title when every run used the same one."""
    suites = sorted({run.suite for run in runs})
    one_suite = len(suites) == 1
    rows = []
    for run in runs:
        lo, hi = run.ci95
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(run.statuses.items()))
        suite = () if one_suite else (run.suite,)
        rows.append(
            (
                run.label,
                short_policy(run.policy),
                *suite,
                f"{run.resolved}/{run.total}",
                percent(run.resolve_rate),
                f"{percent(lo)}-{percent(hi)}",
                f"{run.mean_steps:.1f}",
                statuses,
            )
        )
    columns = (
        "run",
        "policy",
        *(() if one_suite else ("suite",)),
        "resolved",
        "resolve rate",
        "95% CI (Wilson)",
        "mean steps",
        "statuses",
    )
    numeric = (False, False, *(() if one_suite else (False,)), True, True, True, True, False)
    title = f"Resolve rate on suite {suites[0]}" if one_suite else "Resolve rate"
    return TableData(title, columns, tuple(rows), numeric)


def eval_breakdown(runs: Sequence[EvalRun], by: str) -> TableData:
    """Resolve rate per repository or difficulty, one column per run."""
    per_run = [{g.group: g for g in group_rates(run, by)} for run in runs]
    groups = group_order({name for rates in per_run for name in rates}, by)
    rows = tuple((group, *(rate_cell(rates.get(group)) for rates in per_run)) for group in groups)
    title = "Resolve rate by repository" if by == "repo" else "Resolve rate by difficulty"
    label = "repository" if by == "repo" else "difficulty"
    return TableData(title, (label, *(r.label for r in runs)), rows, (False, *(True for _ in runs)))


def eval_tasks(runs: Sequence[EvalRun]) -> TableData:
    """Every task's status in every run (a task a run skipped shows a dash)."""
    by_run = [{t.instance_id: t for t in run.tasks} for run in runs]
    facts = {t.instance_id: t for run in runs for t in run.tasks}
    rows = []
    for instance_id in sorted(facts):
        task = facts[instance_id]
        cells = []
        for tasks in by_run:
            row = tasks.get(instance_id)
            cells.append(DASH if row is None else f"{row.status} ({row.steps} steps)")
        rows.append((instance_id, task.repo, task.difficulty, *cells))
    return TableData(
        "Per task", ("instance", "repository", "difficulty", *(r.label for r in runs)), tuple(rows)
    )


def _first_last(points: list[tuple[int, float]], show=_number) -> str:
    if not points:
        return DASH
    return f"{show(points[0][1])} -> {show(points[-1][1])}" if len(points) > 1 else show(points[0][1])


def _mean(points: list[tuple[int, float]]) -> float | None:
    return statistics.fmean(v for _, v in points) if points else None


def training_summary(runs: Sequence[TrainingRun]) -> TableData:
    rows = []
    for run in runs:
        steps = max((p.step for p in (*run.train, *run.held_out)), default=0)
        reward = run.series("reward") or run.series("rewards/srl_reward/mean")
        rows.append(
            (
                run.label,
                run.method,
                str(steps),
                _first_last(run.series("loss")),
                _first_last(reward),
                _number(_mean(run.series("dynamic_sampling/kept_fraction"))),
                _first_last(run.series("mean_step_reward", held_out=True)),
                _first_last(run.series("format_error_rate", held_out=True), percent),
                "yes" if run.final_model else "no",
            )
        )
    return TableData(
        "Training runs",
        (
            "run",
            "method",
            "steps",
            "loss (first -> last)",
            "reward (first -> last)",
            "mean kept fraction",
            "held-out step reward",
            "held-out format errors",
            "final model",
        ),
        tuple(rows),
        (False, False, True, True, True, True, True, True, False),
        caption="held-out columns: greedy completions on the validation split, scored with the SRL reward",
    )


def step_reward_summary(runs: Sequence[TrainingRun]) -> TableData | None:
    """Distribution of per-instance held-out step rewards, per run and model, when logged."""
    rows = []
    for run in runs:
        models = dict.fromkeys(r.model for r in run.step_rewards)
        for model in models:
            values = [r.reward for r in run.step_rewards if r.model == model]
            rows.append(
                (
                    run.label,
                    model,
                    str(len(values)),
                    f"{statistics.fmean(values):.3f}",
                    f"{statistics.median(values):.3f}",
                    percent(sum(v == -1.0 for v in values) / len(values)),
                    percent(sum(v == 1.0 for v in values) / len(values)),
                )
            )
    if not rows:
        return None
    return TableData(
        "Held-out step rewards",
        ("run", "model", "instances", "mean", "median", "format errors (-1)", "exact (1.0)"),
        tuple(rows),
        (False, False, True, True, True, True, True),
    )


def eval_tables(runs: Sequence[EvalRun]) -> list[TableData]:
    if not runs:
        return []
    return [
        eval_summary(runs),
        eval_breakdown(runs, "repo"),
        eval_breakdown(runs, "difficulty"),
        eval_tasks(runs),
    ]


def training_tables(runs: Sequence[TrainingRun]) -> list[TableData]:
    if not runs:
        return []
    rewards = step_reward_summary(runs)
    return [training_summary(runs), *([rewards] if rewards is not None else [])]


def build_tables(collection: Collection) -> list[TableData]:
    """Every table the collection supports, evaluation first."""
    return eval_tables(collection.eval_runs) + training_tables(collection.training_runs)


def to_rich(table: TableData):
    """A ``rich.table.Table`` of the same cells."""
    from rich.table import Table

    rich_table = Table(title=table.title, caption=table.caption or None)
    for index, column in enumerate(table.columns):
        numeric = table.is_numeric(index)  # numbers never wrap; narrow terminals fold the text columns
        rich_table.add_column(
            column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric
        )
    for row in table.rows:
        rich_table.add_row(*row)
    return rich_table
