"""The chat context a policy sees before each action: one function for training and inference.

``build_messages`` is used by the step-instance builder (SRL and SFT data), by the trainer and by
the evaluation agent loop, so the student acts on exactly the context format it was trained on:

- a system message: the tools (from ``swe_srl.tools.schema``) and the output format — an inner
  monologue in ``<think>...</think>``, then exactly one XML function call;
- a user message: the issue, plus (optionally) the earlier actions as one-line summaries;
- the last ``window`` rounds (SRL paper: 2) as assistant messages holding the canonical action text
  and user messages ``OBSERVATION:\\n<output>``, long outputs cut to a character budget with a
  visible marker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

from swe_srl.actions import render_action
from swe_srl.records import Action, Step
from swe_srl.tools.schema import TOOLS, ToolSpec

DEFAULT_WINDOW = 2
DEFAULT_OBSERVATION_BUDGET = 2000
SUMMARY_WIDTH = 160
OBSERVATION_HEADER = "OBSERVATION:\n"

_FORMAT_TEXT = """\
OUTPUT FORMAT:
Every reply has two parts. First your reasoning, inside <think>...</think>. Then exactly one
function call, and nothing after it:
<function=TOOL_NAME>
<parameter=PARAMETER_NAME>VALUE</parameter>
</function>
Write one <parameter=...> line per argument; values are written verbatim and may span several
lines; integers as digits, lists as JSON (e.g. [10, 40]).

EXAMPLE REPLY:
<think>I should first see how the repository is laid out.</think>
<function=bash>
<parameter=command>ls /testbed</parameter>
</function>"""

_INTRO = (
    "You are an expert software engineer resolving an issue in the Python repository at /testbed. "
    "You work in rounds: each reply runs exactly one tool call, and the next message shows its output. "
    "Change the source code (not the tests) so the issue is fixed, then call submit."
)


def _tool_text(spec: ToolSpec) -> str:
    lines = [f"- {spec.name}: {spec.description}"]
    for param in spec.params:
        need = "required" if param.required else "optional"
        kind = "list of integers" if param.kind == "array" else param.kind
        choices = f" One of: {', '.join(param.enum)}." if param.enum else ""
        lines.append(f"    {param.name} ({kind}, {need}): {param.description}{choices}")
    if not spec.params:
        lines.append("    (no parameters)")
    return "\n".join(lines)


@lru_cache(maxsize=8)
def _system_prompt(names: tuple[str, ...]) -> str:
    tools = "\n".join(_tool_text(TOOLS[name]) for name in names)
    return f"{_INTRO}\n\nTOOLS:\n{tools}\n\n{_FORMAT_TEXT}"


def system_prompt(tools: Sequence[str] = tuple(TOOLS)) -> str:
    """The system message: tool descriptions and the output format with an example."""
    return _system_prompt(tuple(tools))


def truncate_observation(text: str, budget: int | None = DEFAULT_OBSERVATION_BUDGET) -> str:
    """``text`` cut to about ``budget`` characters, keeping its head and tail around a visible marker."""
    if budget is None or len(text) <= budget:
        return text
    head = budget // 2
    tail = budget - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[... {omitted} characters truncated ...]\n{text[len(text) - tail :]}"


def action_summary(action: Action, width: int = SUMMARY_WIDTH) -> str:
    """One line naming an action and its arguments (newlines escaped), cut to ``width`` characters."""
    args = ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in action.args.items())
    line = f"{action.tool}({args})"
    return line if len(line) <= width else line[: width - 3] + "..."


def task_message(problem_statement: str, earlier: Sequence[Step] = (), *, list_earlier: bool = False) -> str:
    """The user message: the issue, and what happened before the visible window."""
    text = f"<issue>\n{problem_statement}\n</issue>"
    if earlier and list_earlier:
        lines = "\n".join(f"{n}. {action_summary(step.action)}" for n, step in enumerate(earlier, start=1))
        text += f"\n\nEarlier actions (outputs not shown):\n{lines}"
    elif earlier:
        text += f"\n\n[{len(earlier)} earlier actions not shown]"
    return text


def build_messages(
    problem_statement: str,
    history: Sequence[Step],
    window: int | None = DEFAULT_WINDOW,
    *,
    list_earlier: bool = False,
    observation_budget: int | None = DEFAULT_OBSERVATION_BUDGET,
    tools: Sequence[str] = tuple(TOOLS),
) -> list[dict[str, str]]:
    """The chat messages before the next action, given the steps taken so far.

    ``window`` is how many of the latest rounds are shown in full (``None``: all of them).
    """
    shown = len(history) if window is None else max(0, min(window, len(history)))
    earlier, recent = history[: len(history) - shown], history[len(history) - shown :]
    messages = [
        {"role": "system", "content": system_prompt(tools)},
        {"role": "user", "content": task_message(problem_statement, earlier, list_earlier=list_earlier)},
    ]
    for step in recent:
        messages.append({"role": "assistant", "content": render_action(step.action)})
        observation = truncate_observation(step.observation, observation_budget)
        messages.append({"role": "user", "content": OBSERVATION_HEADER + observation})
    return messages


def completion_text(thought: str, action: Action) -> str:
    """A full reply in the output format: monologue, then the canonical action (what SFT trains on)."""
    return f"<think>{thought}</think>\n{render_action(action)}"
