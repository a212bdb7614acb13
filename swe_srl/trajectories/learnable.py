"""Is a step instance learnable? The checks ``steps check`` reports and ``steps build`` enforces.

An instance is learnable when the expert's own reply (its monologue in think tags, then its action)
scores exactly 1.0 under the SRL reward with the instance's offered tools, when every tool the target
calls is described in the prompt, and when its target is not empty. Token counts with a given
tokenizer say whether the prompt fits a model's context; ``fit_prompt`` applies the one trimming
policy (``swe_srl.context.trim_messages``) to an instance.

Problems are short names (``PROBLEMS``) so counts aggregate; pure functions over records.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from swe_srl.actions import FormatError, parse_strict, render_action
from swe_srl.context import TokenCounter, TrimReport, render_reply, trim_messages
from swe_srl.records import StepInstance
from swe_srl.tools.legacy import decode_tools
from swe_srl.trajectories.stats import distribution

EMPTY_TARGET = "empty_target"  # no action text, or a call whose every argument is blank
TARGET_NOT_EXACT = "target_not_exact"  # the expert's own reply does not score 1.0
TOOL_NOT_DESCRIBED = "tool_not_described"  # the target's tool is missing from the system prompt
PROMPT_TOO_LONG = "prompt_too_long"  # over the token limit even after trimming
DUPLICATE = "duplicate"  # the same prompt and target as an earlier instance
PROBLEMS = (EMPTY_TARGET, TARGET_NOT_EXACT, TOOL_NOT_DESCRIBED, PROMPT_TOO_LONG, DUPLICATE)


def learnability_problems(instance: StepInstance) -> list[str]:
    """What keeps the expert's own action from being learnable (empty list: nothing).

    The expert's reply is parsed once by the reward's own format check; an action that passes it
    and renders back to the target scores exactly 1.0 (the similarity of equal strings).
    """
    target = instance.target
    if not target.strip():
        return [EMPTY_TARGET]
    offered = decode_tools(instance.tool_specs)
    problems = []
    try:
        action = parse_strict(render_reply(instance.thought, target), tools=offered).action
    except FormatError:
        action = None
    if action is not None and action.args and not any(str(v).strip() for v in action.args.values()):
        return [EMPTY_TARGET]
    if action is None or render_action(action) != target:
        problems.append(TARGET_NOT_EXACT)
    first = instance.prompt[0] if instance.prompt else {}
    system = first.get("content", "") if first.get("role") == "system" else ""
    if instance.tool not in offered or f"\n- {instance.tool}: " not in system:
        problems.append(TOOL_NOT_DESCRIBED)
    return problems


def fit_prompt(
    instance: StepInstance, counter: TokenCounter, max_tokens: int
) -> tuple[StepInstance, TrimReport]:
    """The instance with its prompt trimmed to ``max_tokens`` (see ``report.fits``), and the report.

    A prompt whose rendering is within the limit in UTF-8 bytes fits without tokenizing: a
    byte-level tokenizer never spends more than one token per byte (``TokenCounter.byte_bound``).
    """
    if counter.byte_bound(instance.prompt) <= max_tokens:
        return instance, TrimReport(-1, -1, max_tokens)  # fits; not counted
    prompt, report = trim_messages(instance.prompt, max_tokens, counter)
    return (dataclasses.replace(instance, prompt=prompt) if report.trimmed else instance), report


@dataclass
class CheckReport:
    """What ``steps check`` found over a step-instance dataset."""

    instances: int = 0
    unlearnable: int = 0  # instances with at least one learnability problem
    problems: Counter[str] = field(default_factory=Counter)
    tools: Counter[str] = field(default_factory=Counter)
    prompt_tokens: list[int] = field(default_factory=list)
    target_tokens: list[int] = field(default_factory=list)
    over_limit: int = 0
    max_prompt_tokens: int | None = None
    examples: dict[str, str] = field(default_factory=dict)  # problem -> where it first occurred

    @property
    def learnable(self) -> int:
        return self.instances - self.unlearnable

    def to_dict(self) -> dict[str, Any]:
        total = max(1, self.instances)
        data: dict[str, Any] = {
            "instances": self.instances,
            "learnable": self.learnable,
            "problems": dict(self.problems.most_common()),
            "examples": self.examples,
            "tool_share": {name: count / total for name, count in self.tools.most_common()},
            "tools": dict(self.tools.most_common()),
        }
        if self.prompt_tokens:
            data["prompt_tokens"] = distribution(self.prompt_tokens)
            data["target_tokens"] = distribution(self.target_tokens)
        if self.max_prompt_tokens is not None:
            data["max_prompt_tokens"] = self.max_prompt_tokens
            data["over_limit"] = self.over_limit
        return data


def check_instances(
    rows: Any, counter: TokenCounter | None = None, max_prompt_tokens: int | None = None
) -> CheckReport:
    """Check every ``(where, StepInstance)`` of ``rows``; token counts when a counter is given."""
    from swe_srl.trajectories.steps import dedupe_key

    report = CheckReport(max_prompt_tokens=max_prompt_tokens)
    seen: set[bytes] = set()
    for where, instance in rows:
        report.instances += 1
        report.tools[instance.tool] += 1
        found = learnability_problems(instance)
        report.unlearnable += bool(found)
        key = dedupe_key(instance)
        if key in seen:
            found.append(DUPLICATE)
        seen.add(key)
        if counter is not None:
            tokens = counter.messages(instance.prompt)
            report.prompt_tokens.append(tokens)
            report.target_tokens.append(counter.text(instance.target))
            if max_prompt_tokens is not None and tokens > max_prompt_tokens:
                report.over_limit += 1
        for problem in found:
            report.problems[problem] += 1
            report.examples.setdefault(problem, where)
    return report


def check_table(report: CheckReport) -> Any:
    """The rich table ``steps check`` prints."""
    from rich.table import Table

    data = report.to_dict()
    table = Table(title="Step-instance check")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("instances", f"{report.instances:,}")
    share = report.learnable / report.instances if report.instances else 0.0
    table.add_row(
        "learnable (expert target scores 1.0, tool described)", f"{report.learnable:,} ({share:.1%})"
    )
    for problem, count in report.problems.most_common():
        table.add_row(f"problem: {problem}", f"{count:,}  e.g. {report.examples.get(problem, '')}")
    for name, value in data["tool_share"].items():
        table.add_row(f"tool {name}", f"{report.tools[name]:,} ({value:.1%})")
    for key in ("prompt_tokens", "target_tokens"):
        if key in data:
            dist = data[key]
            table.add_row(
                f"{key} p50/p90/p99 (max)",
                f"{dist['p50']:,.0f} / {dist['p90']:,.0f} / {dist['p99']:,.0f} ({dist['max']:,.0f})",
            )
    if report.max_prompt_tokens is not None:
        table.add_row(f"prompts over {report.max_prompt_tokens:,} tokens", f"{report.over_limit:,}")
    return table
