"""The report's tables as plain data (:class:`TableData`), rendered by rich here and by ``html.py``.

Keeping cells as strings in one neutral shape means the terminal and the HTML page always show
the same numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from swe_srl.report.collect import Collection, EvalRun, EvalTaskRow, TrainingRun
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


def counts(items: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(items.items())) or DASH


def infrastructure_errors(run: EvalRun) -> str:
    """``2 (sandbox 1, timeout 1)``: tasks the machinery failed, by cause; a dash when none."""
    errors = run.infrastructure_errors
    return f"{sum(errors.values())} ({counts(errors)})" if errors else DASH


def eval_summary(runs: Sequence[EvalRun]) -> TableData:
    """One row per run; the suite goes in the title when every run used the same one."""
    suites = sorted({run.suite for run in runs})
    one_suite = len(suites) == 1
    rows = []
    for run in runs:
        lo, hi = run.ci95
        suite = () if one_suite else (run.suite,)
        rows.append(
            (
                run.label,
                short_policy(run.policy),
                *suite,
                run.state,
                f"{run.resolved}/{run.judged}",
                percent(run.resolve_rate),
                f"{percent(lo)}-{percent(hi)}",
                f"{run.mean_steps:.1f}",
                counts(run.verdicts),
                infrastructure_errors(run),
            )
        )
    columns = (
        "run",
        "policy",
        *(() if one_suite else ("suite",)),
        "state",
        "resolved",
        "resolve rate",
        "95% CI (Wilson)",
        "mean steps",
        "verdicts",
        "infra errors",
    )
    numeric = (False, False, *(() if one_suite else (False,)), False, True, True, True, True, False, False)
    title = f"Resolve rate on suite {suites[0]}" if one_suite else "Resolve rate"
    caption = ""
    if any(not run.complete for run in runs):
        caption = "a run in progress shows its numbers so far"
    if any(run.infrastructure_errors for run in runs):
        caption = "; ".join(
            c
            for c in (
                caption,
                "infra errors: the machinery failed, not the model (--retry-errors reruns them)",
            )
            if c
        )
    return TableData(title, columns, tuple(rows), numeric, caption)


def eval_breakdown(runs: Sequence[EvalRun], by: str) -> TableData:
    """Resolve rate per repository or difficulty, one column per run."""
    per_run = [{g.group: g for g in group_rates(run, by)} for run in runs]
    groups = group_order({name for rates in per_run for name in rates}, by)
    rows = tuple((group, *(rate_cell(rates.get(group)) for rates in per_run)) for group in groups)
    title = "Resolve rate by repository" if by == "repo" else "Resolve rate by difficulty"
    label = "repository" if by == "repo" else "difficulty"
    return TableData(title, (label, *(r.label for r in runs)), rows, (False, *(True for _ in runs)))


def task_cell(row: EvalTaskRow | None) -> str:
    """``resolved (3 steps)``; an infrastructure error with its cause; a dash for a task not run."""
    if row is None:
        return DASH
    status = f"{row.status}: {row.cause}" if row.cause else row.status
    audit = f", {len(row.audit)} audit finding(s)" if row.audit else ""
    return f"{status} ({row.steps} steps{audit})"


def eval_tasks(runs: Sequence[EvalRun]) -> TableData:
    """Every task's status in every run (a task a run skipped shows a dash)."""
    by_run = [{t.instance_id: t for t in run.tasks} for run in runs]
    facts = {t.instance_id: t for run in runs for t in run.tasks}
    rows = []
    for instance_id in sorted(facts):
        task = facts[instance_id]
        cells = [task_cell(tasks.get(instance_id)) for tasks in by_run]
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


def steps_cell(run: TrainingRun) -> str:
    """The run's steps; a run that continues another counts on from it."""
    if not run.offset:
        return str(run.last_step)
    return f"{run.offset + 1}-{run.offset + run.last_step} (after {run.after})"


def training_summary(runs: Sequence[TrainingRun]) -> TableData:
    rows = []
    for run in runs:
        reward = run.series("reward") or run.series("rewards/srl_reward/mean")
        rows.append(
            (
                run.label,
                run.method,
                "finished" if run.finished else "unfinished",
                steps_cell(run),
                _first_last(run.series("loss")),
                _first_last(reward),
                _number(_mean(run.series("dynamic_sampling/kept_fraction"))),
                _first_last(run.series("mean_step_reward", held_out=True)),
                _first_last(run.series("format_error_rate", held_out=True), percent),
            )
        )
    return TableData(
        "Training runs",
        (
            "run",
            "method",
            "state",
            "steps",
            "loss (first -> last)",
            "reward (first -> last)",
            "mean kept fraction",
            "held-out step reward",
            "held-out format errors",
        ),
        tuple(rows),
        (False, False, False, True, True, True, True, True, True),
        caption="state: finished when the final model was saved; held-out columns: greedy completions on the "
        "validation split, scored with the SRL reward",
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


def _seconds(distribution: dict | None, *quantiles: str) -> str:
    if not distribution or not distribution.get("count"):
        return DASH
    return " / ".join(f"{distribution[q]:.2f}s" for q in quantiles)


def _error_rate(telemetry: dict) -> str:
    errors = telemetry.get("infrastructure_errors") or {}
    if not telemetry.get("tasks"):
        return DASH
    causes = ", ".join(f"{k} {v}" for k, v in sorted((errors.get("by_cause") or {}).items()))
    return percent(errors.get("rate", 0.0)) + (f" ({causes})" if causes else "")


def eval_throughput(runs: Sequence[EvalRun]) -> TableData | None:
    """Each run's ``telemetry.json`` (its latest invocation): where and how fast its tasks ran."""
    rows = []
    for run in runs:
        if not run.telemetry:
            continue
        telemetry, phases = run.telemetry, run.telemetry.get("phase_seconds") or {}
        tokens = telemetry.get("tokens_per_second")
        rows.append(
            (
                run.label,
                f"{telemetry.get('executor', DASH)}, {len(telemetry.get('nodes') or {})} node(s)",
                str(telemetry.get("tasks_per_hour", DASH)),
                _seconds(telemetry.get("sandbox_start_seconds"), "p50", "p99"),
                _seconds(phases.get("agent"), "p50", "p90"),
                _seconds(phases.get("grade"), "p50", "p90"),
                _error_rate(telemetry),
                DASH if tokens is None else f"{tokens:.1f}",
            )
        )
    if not rows:
        return None
    columns = ("run", "executor", "tasks/hour", "sandbox start p50 / p99", "episode p50 / p90",
               "grading p50 / p90", "infrastructure errors", "tokens/s")  # fmt: skip
    return TableData(
        "Throughput (latest invocation)",
        columns,
        tuple(rows),
        (False, False, True, True, True, True, False, True),
        caption="infrastructure errors: tasks that could not be judged (not in the resolve rate); "
        "--retry-errors reruns them",
    )


def eval_tables(runs: Sequence[EvalRun]) -> list[TableData]:
    if not runs:
        return []
    throughput = eval_throughput(runs)
    return [
        eval_summary(runs),
        *([throughput] if throughput is not None else []),
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


def _longest_words(table: TableData) -> list[int]:
    return [
        max((len(w) for text in (column, *(row[i] for row in table.rows)) for w in text.split()), default=1)
        for i, column in enumerate(table.columns)
    ]


def to_rich(table: TableData, width: int | None = None):
    """A ``rich.table.Table`` of the same cells.

    Lines break between words only: each column is at least as wide as its longest word (an
    instance id, a number), so nothing is cut mid-word, as long as that fits ``width``; a table
    too wide for that keeps only its first column (run labels, instance ids) whole and folds the
    rest, rather than losing columns off the edge.
    """
    from rich.table import Table

    minimums = _longest_words(table)
    if width is not None and sum(minimums) + 3 * len(minimums) + 1 > width:
        minimums = [minimums[0], *([None] * (len(minimums) - 1))]
    rich_table = Table(title=table.title, caption=table.caption or None)
    for index, column in enumerate(table.columns):
        justify = "right" if table.is_numeric(index) else "left"
        rich_table.add_column(column, justify=justify, overflow="fold", min_width=minimums[index])
    for row in table.rows:
        rich_table.add_row(*row)
    return rich_table
