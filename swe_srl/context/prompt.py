"""The chat messages a policy reads before each action, and the reply it writes.

``build_messages`` is the one context builder: step instances (SFT and SRL data), every chat
policy, the agent loop, ``SweEnv(context=...)`` and RLVR's task prompts all call it, so a model
acts on exactly the context it was trained on:

- a system message (:func:`system_prompt`): the tools, described from their specs, and the reply
  format with an example;
- a user message (:func:`task_message`): the issue in ``<issue>`` tags, and a note (or one-line
  summaries) for the rounds before the window;
- the last ``window`` rounds: an assistant message holding the canonical action text
  (:func:`swe_srl.actions.render_action`) and a user message holding the observation
  (:func:`observation_message`), cut to ``observation_budget`` characters with a visible marker.

A reply is ``<think>monologue</think>`` then exactly one call (:func:`render_reply`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from swe_srl.actions import render_action
from swe_srl.records import Action, Step
from swe_srl.tools.observation import NO_OUTPUT
from swe_srl.tools.schema import TOOLS, ToolSpec

DEFAULT_WINDOW = 2  # the SRL paper shows the last two rounds
DEFAULT_OBSERVATION_BUDGET = 2000  # characters per observation shown in the window
DEFAULT_WORKDIR = "/testbed"
SUMMARY_WIDTH = 160
OBSERVATION_HEADER = "OBSERVATION:\n"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

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
<parameter=command>ls {workdir}</parameter>
</function>"""

_INTRO = (
    "You are an expert software engineer resolving an issue in the Python repository at {workdir}. "
    "You work in rounds: each reply runs exactly one tool call, and the next message shows its output. "
    "Change the source code (not the tests) so the issue is fixed, then call submit."
)


@dataclass(frozen=True)
class ContextConfig:
    """How much of an episode the context shows.

    ``window``: latest rounds shown in full (``None``: all). ``observation_budget``: characters kept
    of each shown observation (``None``: all). ``list_earlier``: summarise the rounds before the
    window one line each instead of counting them. ``workdir``: where the repository lives.
    """

    window: int | None = DEFAULT_WINDOW
    observation_budget: int | None = DEFAULT_OBSERVATION_BUDGET
    list_earlier: bool = False
    workdir: str = DEFAULT_WORKDIR


DEFAULT_CONTEXT = ContextConfig()
STANDARD_TOOLS: tuple[ToolSpec, ...] = tuple(TOOLS.values())


def tool_text(spec: ToolSpec) -> str:
    """One tool's entry in the system prompt: name, description, then one line per parameter."""
    lines = [f"- {spec.name}: {spec.description}"]
    for param in spec.params:
        need = "required" if param.required else "optional"
        kind = "list of integers" if param.kind == "array" else param.kind
        choices = f" One of: {', '.join(param.enum)}." if param.enum else ""
        lines.append(f"    {param.name} ({kind}, {need}): {param.description}{choices}")
    if not spec.params:
        lines.append("    (no parameters)")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _system_prompt(tools: tuple[ToolSpec, ...], workdir: str) -> str:
    listing = "\n".join(tool_text(spec) for spec in tools)
    intro = _INTRO.format(workdir=workdir)
    return f"{intro}\n\nTOOLS:\n{listing}\n\n{_FORMAT_TEXT.format(workdir=workdir)}"


def system_prompt(tools: Iterable[ToolSpec] | None = None, workdir: str = DEFAULT_WORKDIR) -> str:
    """The system message: the tools (default: bash, str_replace_editor, submit) and the reply format."""
    return _system_prompt(STANDARD_TOOLS if tools is None else tuple(tools), workdir)


def truncate_observation(text: str, budget: int | None = DEFAULT_OBSERVATION_BUDGET) -> str:
    """``text`` cut to about ``budget`` characters, keeping its head and tail around a visible marker."""
    if budget is None or len(text) <= budget:
        return text
    head = budget // 2
    tail = budget - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[... {omitted} characters truncated ...]\n{text[len(text) - tail :]}"


def observation_message(observation: str, budget: int | None = DEFAULT_OBSERVATION_BUDGET) -> str:
    """The user message holding one observation: ``OBSERVATION:`` then the (cut) text.

    SWE-agent shows its no-output sentence bare, without the header; so does this.
    """
    if observation == NO_OUTPUT:
        return observation
    return OBSERVATION_HEADER + truncate_observation(observation, budget)


def action_summary(action: Action, width: int = SUMMARY_WIDTH) -> str:
    """One line naming an action and its arguments (newlines escaped), cut to ``width`` characters."""
    args = ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in action.args.items())
    line = f"{action.tool}({args})"
    return line if len(line) <= width else line[: width - 3] + "..."


def earlier_note(count: int) -> str:
    """The note that stands for ``count`` rounds before the window."""
    return f"[{count} earlier actions not shown]"


def task_message(problem_statement: str, earlier: Sequence[Step] = (), *, list_earlier: bool = False) -> str:
    """The user message: the issue, and what happened before the visible window."""
    text = f"<issue>\n{problem_statement}\n</issue>"
    if earlier and list_earlier:
        lines = "\n".join(f"{n}. {action_summary(step.action)}" for n, step in enumerate(earlier, start=1))
        text += f"\n\nEarlier actions (outputs not shown):\n{lines}"
    elif earlier:
        text += f"\n\n{earlier_note(len(earlier))}"
    return text


def build_messages(
    problem_statement: str,
    history: Sequence[Step],
    config: ContextConfig = DEFAULT_CONTEXT,
    *,
    tools: Iterable[ToolSpec] | None = None,
) -> list[dict[str, str]]:
    """The chat messages before the next action, given the steps taken so far.

    ``tools`` are the tools the system prompt describes (default: bash, str_replace_editor, submit);
    a step instance imported from another harness lists the tools its expert had.
    """
    window, list_earlier = config.window, config.list_earlier
    shown = len(history) if window is None else max(0, min(window, len(history)))
    earlier, recent = history[: len(history) - shown], history[len(history) - shown :]
    messages = [
        {"role": "system", "content": system_prompt(tools, config.workdir)},
        {"role": "user", "content": task_message(problem_statement, earlier, list_earlier=list_earlier)},
    ]
    budget = config.observation_budget
    for step in recent:
        messages.append({"role": "assistant", "content": render_action(step.action)})
        messages.append({"role": "user", "content": observation_message(step.observation, budget)})
    return messages


def render_reply(thought: str, action: Action | str) -> str:
    """A full reply in the output format: the monologue in think tags, then the action's canonical text.

    ``action`` may already be canonical text (a step instance's ``target``). This is what SFT trains
    on, what scripted policies answer, and what the SRL reward's format check accepts.
    """
    text = action if isinstance(action, str) else render_action(action)
    return f"{THINK_OPEN}{thought}{THINK_CLOSE}\n{text}"
