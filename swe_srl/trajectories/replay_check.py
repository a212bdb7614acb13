"""Replay check: re-execute a trajectory's actions in ``SweEnv`` and compare what comes back.

A trajectory is only good training data if its observations are what the environment really
answers to its actions. ``replay_check`` starts the task's sandbox, plays every recorded action in
order, and scores each replayed observation against the recorded one (both in the canonical
observation form) with the SRL similarity (``2M/T``, :func:`swe_srl.reward.similarity`). Each step
is classified by ``divergence.classify`` (identical, nondeterministic: only timings, addresses or
ids differ, or drift: the environment answers otherwise), and the report names the first step that
diverges and why, and the first drift when timing noise came before it. The final patch of the
replay is then graded in a fresh sandbox, so the report also says whether the trajectory still
resolves its task. The comparison and the classification are pure functions (``divergence``);
this module only drives the environment.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

from swe_srl.records import Task, Trajectory
from swe_srl.tools.observation import canonical_observation
from swe_srl.trajectories.divergence import DRIFT, IDENTICAL, Divergence, FirstDivergence, classify

PARSE_ERROR_TOOL = "parse_error"


def _similarity(a: str, b: str) -> float:
    try:
        from swe_srl.reward import similarity
    except ImportError:  # the reward module is optional here; difflib gives the same number
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    return similarity(a, b)


@dataclass(frozen=True)
class StepCheck:
    """One replayed step: how close the new observation is to the recorded one."""

    index: int
    tool: str
    action: str  # a one-line summary of the action
    similarity: float
    recorded_chars: int
    replayed_chars: int
    exit_code: int
    kind: str = IDENTICAL  # identical | nondeterministic | drift (``divergence.classify``)
    recorded_line: str = ""  # the first differing line of each side
    replayed_line: str = ""

    @property
    def exact(self) -> bool:
        return self.similarity == 1.0


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of replaying one trajectory."""

    instance_id: str
    steps: tuple[StepCheck, ...]
    replayed_steps: int  # may be fewer than recorded when the episode ended early
    recorded_steps: int
    patch_similarity: float
    patch_identical: bool
    resolved: bool | None  # None: not graded
    eval_status: str = ""
    recorded_resolved: bool | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def first_divergence(self) -> FirstDivergence | None:
        """The first step whose replayed observation is not identical, and why."""
        for check in self.steps:
            if check.kind != IDENTICAL:
                divergence = Divergence(check.kind, check.recorded_line, check.replayed_line)
                return FirstDivergence(check.index, divergence)
        return None

    @property
    def first_drift(self) -> FirstDivergence | None:
        """The first step the environment answered otherwise (nondeterminism aside), and how."""
        for check in self.steps:
            if check.kind == DRIFT:
                return FirstDivergence(
                    check.index, Divergence(DRIFT, check.recorded_line, check.replayed_line)
                )
        return None

    @property
    def mean_similarity(self) -> float:
        return sum(s.similarity for s in self.steps) / len(self.steps) if self.steps else 1.0

    @property
    def min_similarity(self) -> float:
        return min((s.similarity for s in self.steps), default=1.0)

    @property
    def exact_steps(self) -> int:
        return sum(s.exact for s in self.steps)

    def to_dict(self) -> dict:
        data = asdict(self)
        first = self.first_divergence
        data.update(
            mean_similarity=self.mean_similarity,
            min_similarity=self.min_similarity,
            exact_steps=self.exact_steps,
            first_divergence=None if first is None else asdict(first),
            first_drift=None if self.first_drift is None else asdict(self.first_drift),
        )
        return data


def action_summary(tool: str, args: dict, width: int = 60) -> str:
    """One line naming what an action does: the bash command, or the editor command and path."""
    if tool == "bash":
        text = " ".join(str(args.get("command", "")).split())
    elif tool == "str_replace_editor":
        text = f"{args.get('command', '')} {args.get('path', '')}"
    else:
        text = tool
    return text if len(text) <= width else text[: width - 1] + "…"


def _replay_steps(env, trajectory: Trajectory) -> tuple[list[StepCheck], str, list[str]]:
    """Play the recorded actions; return the checks, the final patch and notes."""
    checks: list[StepCheck] = []
    notes: list[str] = []
    info: dict = {}
    ended = False
    for index, step in enumerate(trajectory.steps):
        if ended:
            notes.append(
                f"the replay ended after step {index}; {len(trajectory.steps) - index} step(s) not run"
            )
            break
        # A recorded parse error is replayed from its raw text so the same explanation comes back.
        action = step.raw_action if step.action.tool == PARSE_ERROR_TOOL else step.action
        observation, _, terminated, truncated, info = env.step(action)
        recorded = canonical_observation(step.observation)
        divergence = classify(recorded, observation)
        checks.append(
            StepCheck(
                index=index,
                tool=step.action.tool,
                action=action_summary(step.action.tool, step.action.args),
                similarity=round(_similarity(observation, recorded), 6),
                recorded_chars=len(recorded),
                replayed_chars=len(observation),
                exit_code=int(info.get("exit_code", -1)),
                kind=divergence.kind,
                recorded_line=divergence.recorded_line,
                replayed_line=divergence.replayed_line,
            )
        )
        ended = terminated or truncated
    patch = info.get("patch", "") if ended else env.unwrapped.sandbox.diff()
    return checks, patch, notes


def replay_check(
    trajectory: Trajectory,
    task: Task,
    sandbox_kind: str = "local",
    *,
    grade: bool = True,
    grader=None,
    step_timeout: float = 120.0,
) -> ReplayReport:
    """Re-execute ``trajectory`` on ``task`` in a ``sandbox_kind`` sandbox and report the differences."""
    from swe_srl.env import SweEnv

    if trajectory.instance_id != task.instance_id:
        raise ValueError(f"trajectory is for {trajectory.instance_id!r}, the task is {task.instance_id!r}")
    env = SweEnv(
        task=task,
        sandbox=sandbox_kind,
        max_steps=max(1, len(trajectory.steps)),
        step_timeout=step_timeout,
        diff_every_step=False,
    )
    try:
        env.reset(options={"task": task})
        checks, patch, notes = _replay_steps(env, trajectory)
    finally:
        env.close()
    resolved, status = None, ""
    if grade:
        if grader is None:
            from swe_srl.eval.grader import SandboxGrader

            grader = SandboxGrader(sandbox_kind)
        result = grader.grade(task, patch)
        resolved, status = bool(result.resolved), result.status
    return ReplayReport(
        instance_id=task.instance_id,
        steps=tuple(checks),
        replayed_steps=len(checks),
        recorded_steps=len(trajectory.steps),
        patch_similarity=round(_similarity(patch, trajectory.final_patch), 6),
        patch_identical=patch == trajectory.final_patch,
        resolved=resolved,
        eval_status=status,
        recorded_resolved=trajectory.resolved,
        notes=tuple(notes),
    )


def _divergence_text(found: FirstDivergence) -> str:
    divergence = found.divergence
    return (
        f"step {found.step + 1} ({divergence.kind}: "
        f"{divergence.recorded_line!r} -> {divergence.replayed_line!r})"
    )


def replay_table(report: ReplayReport):
    """A rich table: one row per step, then the verdict."""
    from rich.table import Table

    table = Table(title=f"replay check: {report.instance_id}")
    for name, justify in (
        ("step", "right"),
        ("action", "left"),
        ("similarity", "right"),
        ("recorded chars", "right"),
        ("replayed chars", "right"),
        ("exit", "right"),
        ("divergence", "left"),
    ):
        table.add_column(name, justify=justify)
    for check in report.steps:
        colour = "green" if check.exact else ("yellow" if check.similarity >= 0.9 else "red")
        table.add_row(
            str(check.index + 1),
            check.action,
            f"[{colour}]{check.similarity:.4f}[/{colour}]",
            str(check.recorded_chars),
            str(check.replayed_chars),
            str(check.exit_code),
            "" if check.kind == IDENTICAL else check.kind,
        )
    verdict = {True: "[green]resolved[/green]", False: "[red]not resolved[/red]", None: "not graded"}
    first = report.first_divergence
    diverged = "no step diverges" if first is None else f"first divergence: {_divergence_text(first)}"
    drift = report.first_drift
    if drift is not None and drift != first:  # nondeterminism came first: say where the environment drifts
        diverged += f"; first drift: {_divergence_text(drift)}"
    table.caption = (
        f"{diverged}; "
        f"{report.exact_steps}/{len(report.steps)} steps identical, mean {report.mean_similarity:.4f}, "
        f"min {report.min_similarity:.4f}; final patch "
        f"{'identical' if report.patch_identical else f'similarity {report.patch_similarity:.4f}'}; "
        f"{verdict[report.resolved]}" + (f" ({report.eval_status})" if report.eval_status else "")
    )
    return table
