"""The context a policy acts on and the reply it writes: one format for data, training and inference.

Sits just above ``records``, ``actions`` and ``tools`` (it imports nothing else), so the
environment, the trajectories, the policies and the trainers all import it:

- ``prompt``: :func:`build_messages` (system prompt with the tools and the reply format, the issue,
  the last rounds with their observations cut to a budget), :class:`ContextConfig`, and
  :func:`render_reply` (``<think>monologue</think>`` + the canonical action text);
- ``budget``: :class:`TokenCounter` and :func:`trim_messages`, the one policy that fits a prompt
  into a token limit (oldest observations shortened first, then oldest rounds dropped, reported).

Deviations from the SRL paper (arXiv 2510.25992), all of them, in one place:

- Context: the paper shows the issue and the last two rounds of action + observation but does not
  say how long observations are; here each shown observation keeps 2,000 characters (head and tail
  around a marker), earlier rounds are counted in a note, and the system prompt describes the tools
  and the reply format with an example (the paper's SWE prompt is not published).
- Reply format: SWE-smith's XML function call is the canonical action text (the teacher's own
  format; the paper calls the target "the environment-consumable command").
- Reward: difflib's ratio with ``autojunk=False`` (the paper does not say; with autojunk, strings
  over 200 characters score wrong).
- Long prompts are trimmed to a token limit by :func:`trim_messages` (the paper does not say how it
  handled prompts longer than the model's context).
"""

from __future__ import annotations

from swe_srl.context.budget import TokenCounter, TrimReport, trim_messages
from swe_srl.context.prompt import (
    DEFAULT_CONTEXT,
    DEFAULT_OBSERVATION_BUDGET,
    DEFAULT_WINDOW,
    DEFAULT_WORKDIR,
    OBSERVATION_HEADER,
    STANDARD_TOOLS,
    ContextConfig,
    action_summary,
    build_messages,
    observation_message,
    render_reply,
    system_prompt,
    task_message,
    truncate_observation,
)

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_OBSERVATION_BUDGET",
    "DEFAULT_WINDOW",
    "DEFAULT_WORKDIR",
    "OBSERVATION_HEADER",
    "STANDARD_TOOLS",
    "ContextConfig",
    "TokenCounter",
    "TrimReport",
    "action_summary",
    "build_messages",
    "observation_message",
    "render_reply",
    "system_prompt",
    "task_message",
    "trim_messages",
    "truncate_observation",
]
