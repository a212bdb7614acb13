"""Step instances: a trajectory with N actions gives N SRL examples.

Instance k holds the context before expert action k (``swe_srl.context.build_messages`` over
steps 0..k-1) and, as target, the canonical text of action k (``render_action``); the expert's
monologue for step k rides along as ``thought`` for SFT (``sft_completion``).

``build_step_dataset`` streams trajectories into ``train``/``validation`` JSONL and parquet files:
filters (resolved only, tools, a cap per trajectory), deduplication of identical prompt + target,
and a split BY TRAJECTORY (a seeded hash of the trajectory id), so no trajectory contributes to
both splits. Memory stays bounded by one trajectory plus one parquet batch plus a set of 16-byte
dedupe keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from swe_srl.actions import render_action
from swe_srl.context import (
    DEFAULT_OBSERVATION_BUDGET,
    DEFAULT_WINDOW,
    DEFAULT_WORKDIR,
    STANDARD_TOOLS,
    ContextConfig,
    TokenCounter,
    build_messages,
    render_reply,
)
from swe_srl.records import RecordError, StepInstance, Trajectory
from swe_srl.tools.legacy import encode_tools, spec_from_dict
from swe_srl.tools.schema import ToolSpec
from swe_srl.trajectories.io import trajectory_id
from swe_srl.trajectories.learnable import PROMPT_TOO_LONG, fit_prompt, learnability_problems
from swe_srl.trajectories.stats import StepStats

TRAIN = "train"
VALIDATION = "validation"
SPLITS = (TRAIN, VALIDATION)


@dataclass(frozen=True)
class StepOptions:
    """How trajectories become step instances."""

    window: int | None = DEFAULT_WINDOW
    list_earlier: bool = False
    observation_budget: int | None = DEFAULT_OBSERVATION_BUDGET
    resolved_only: bool = False
    max_steps_per_trajectory: int | None = None
    tools: frozenset[str] | None = None  # keep instances whose target uses one of these tools
    dedupe: bool = True
    validation_fraction: float = 0.05
    seed: int = 0
    learnable_only: bool = False  # drop instances whose expert action is not learnable as it stands
    max_prompt_tokens: int | None = None  # trim prompts to this many tokens; drop those that cannot fit
    write_jsonl: bool = True  # also write <split>.jsonl beside the parquet files

    def context_for(self, traj: Trajectory) -> ContextConfig:
        """The context of ``traj``'s instances (its repository directory, when the import knew it)."""
        workdir = traj.metadata.get("workdir")
        return ContextConfig(
            window=self.window,
            observation_budget=self.observation_budget,
            list_earlier=self.list_earlier,
            workdir=workdir if isinstance(workdir, str) and workdir.startswith("/") else DEFAULT_WORKDIR,
        )


def offered_tools(traj: Trajectory) -> tuple[ToolSpec, ...]:
    """The tools the expert had: bash, str_replace_editor, submit, plus the trajectory's extra tools."""
    extras = traj.metadata.get("extra_tools") or []
    try:
        return STANDARD_TOOLS + tuple(spec_from_dict(item) for item in extras)
    except (KeyError, TypeError, AttributeError) as err:
        raise RecordError(
            f"malformed tool spec: {type(err).__name__}: {err}",
            record=trajectory_id(traj),
            field_name="metadata.extra_tools",
        ) from None


def step_instances(traj: Trajectory, options: StepOptions = StepOptions()) -> Iterator[StepInstance]:
    """The instances of one trajectory, in step order, after the tool filter and the cap."""
    tid = trajectory_id(traj)
    tools = offered_tools(traj)
    tool_specs = encode_tools(tools)
    context = options.context_for(traj)
    emitted = 0
    for k, step in enumerate(traj.steps):
        if options.max_steps_per_trajectory is not None and emitted >= options.max_steps_per_trajectory:
            return
        if options.tools is not None and step.action.tool not in options.tools:
            continue
        prompt = build_messages(traj.problem_statement, traj.steps[:k], context, tools=tools)
        emitted += 1
        yield StepInstance(
            instance_id=traj.instance_id,
            trajectory_id=tid,
            step_index=k,
            num_steps=len(traj.steps),
            tool=step.action.tool,
            prompt=prompt,
            target=render_action(step.action),
            thought=step.thought,
            tool_specs=tool_specs,
        )


def sft_completion(instance: StepInstance) -> str:
    """The SFT target of an instance: ``<think>{thought}</think>`` then the action's canonical text."""
    return render_reply(instance.thought, instance.target)


def split_of(traj_id: str, validation_fraction: float, seed: int = 0) -> str:
    """The split of a whole trajectory: a seeded hash of its id, stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}:{traj_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return VALIDATION if position < validation_fraction else TRAIN


def dedupe_key(instance: StepInstance) -> bytes:
    """A 16-byte digest of prompt + target: equal keys mean the same training example."""
    digest = hashlib.blake2b(digest_size=16)
    for message in instance.prompt:
        digest.update(message["role"].encode())
        digest.update(b"\x00")
        digest.update(message["content"].encode("utf-8", "surrogatepass"))
        digest.update(b"\x01")
    digest.update(instance.target.encode("utf-8", "surrogatepass"))
    return digest.digest()


def _admit(
    instance: StepInstance,
    options: StepOptions,
    counter: TokenCounter | None,
    stats: StepStats,
    seen: set[bytes],
) -> StepInstance | None:
    """The instance as written (its prompt trimmed to the token limit), or None when it is dropped."""
    problems = learnability_problems(instance)
    stats.unlearnable.update(problems)
    if problems and options.learnable_only:
        stats.dropped[problems[0]] += 1
        return None
    if counter is not None and options.max_prompt_tokens is not None:
        instance, report = fit_prompt(instance, counter, options.max_prompt_tokens)
        stats.add_trim(report)
        if not report.fits:
            stats.dropped[PROMPT_TOO_LONG] += 1
            return None
    if options.dedupe:
        key = dedupe_key(instance)
        if key in seen:
            stats.duplicates += 1
            return None
        seen.add(key)
    return instance


def build_step_dataset(
    trajectories: Iterable[Trajectory],
    out_dir: str | Path,
    options: StepOptions = StepOptions(),
    *,
    counter: TokenCounter | None = None,
    skipped: list[str] | None = None,
    batch_rows: int = 512,
) -> StepStats:
    """Write train/validation JSONL + parquet and ``stats.json`` under ``out_dir``; return the stats.

    Every instance is checked (``learnable.learnability_problems``, counted in the stats); with
    ``options.learnable_only`` unlearnable ones are dropped. With a ``counter`` and
    ``options.max_prompt_tokens`` long prompts are trimmed and those that still do not fit dropped.
    Nothing is dropped silently: ``stats.json`` counts every reason, and ``skipped`` (the import's
    list of malformed records, filled while ``trajectories`` streams) is saved there too.
    """
    from swe_srl.trajectories.step_writer import StepDatasetWriter

    if options.max_prompt_tokens is not None and counter is None:
        raise ValueError("max_prompt_tokens needs a token counter (a tokenizer)")
    stats = StepStats()
    seen: set[bytes] = set()
    with StepDatasetWriter(out_dir, batch_rows=batch_rows, jsonl=options.write_jsonl) as writer:
        for traj in trajectories:
            stats.trajectories_in += 1
            if options.resolved_only and traj.resolved is not True:
                stats.skipped_unresolved += 1
                continue
            split = split_of(trajectory_id(traj), options.validation_fraction, options.seed)
            stats.add_trajectory(split)
            for instance in step_instances(traj, options):
                admitted = _admit(instance, options, counter, stats, seen)
                if admitted is not None:
                    writer.write(admitted, split)
                    stats.add_instance(admitted, split)
    stats.skipped_records = list(skipped or [])
    stats.write(Path(out_dir) / "stats.json")
    return stats
