"""The SRL step reward: format check, then action similarity ``R = 2M/T``.

A completion is a monologue in ``<think>...</think>`` followed by exactly one tool call
(``swe_srl.actions.parse_strict`` is the format check) of a tool the instance's prompt offered
(its ``tool_specs`` column; bash, str_replace_editor and submit when it has none). The reward looks at
the action only:

- ``-1.0`` when the completion breaks the format (``FormatError``);
- otherwise ``2M/T`` between the canonical text of the student's action and the expert's,
  where ``T`` is the total number of characters of both strings and ``M`` the characters in the
  matching blocks that ``difflib.SequenceMatcher(None, a, b, autojunk=False)`` finds.

``similarity`` gives exactly ``SequenceMatcher(None, a, b, autojunk=False).ratio()``: the C
extension ``swe_srl._seqmatch`` finds the same blocks (same longest-match tie-breaking, same
recursion) on the strings' code points; without it the stdlib computes the value. ``BACKEND``
says which one is in use ("c" or "python").

Deviation from the paper: none in the metric (the list of all deviations is in ``swe_srl.context``).
"""

from __future__ import annotations

import atexit
import difflib
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from swe_srl.actions import FormatError, parse_strict, render_action
from swe_srl.tools.legacy import decode_tools

FORMAT_PENALTY = -1.0
# Below this many pairs a batch is scored in-process: a pool round trip costs more than it saves.
PARALLEL_MIN_PAIRS = 256
# Chunks per worker: enough to balance uneven pair lengths, few enough to keep pickling cheap.
CHUNKS_PER_WORKER = 4

Completion = str | Sequence[Mapping[str, object]]


def _difflib_ratio(a: str, b: str) -> float:
    """``SequenceMatcher(None, a, b, autojunk=False).ratio()``: the reference implementation."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


try:
    from swe_srl import _seqmatch
except ImportError:  # built without a C compiler: the stdlib gives the same numbers, slower
    _seqmatch = None

BACKEND = "python" if _seqmatch is None else "c"

# similarity(a, b) -> float: 2M/T between two strings, 1.0 when both are empty. Bound directly to
# the C function (no Python frame around it): reward batches call it millions of times.
similarity: Callable[[str, str], float] = _difflib_ratio if _seqmatch is None else _seqmatch.ratio


# An instance's offered tools: ``swe_srl.tools.legacy.encode_tools`` text ("" or None: the standard three).
ToolNames = str | None


def step_reward(
    completion: str, expert_action: str, *, think_opened: bool = False, tools: ToolNames = None
) -> float:
    """The SRL reward of one completion against the expert's canonical action text.

    ``think_opened`` says the prompt already ended with ``<think>`` (the completion starts
    inside the monologue), as ``parse_strict`` reads it. ``tools`` is the instance's ``tool_specs``
    column (``encode_tools`` text; empty or None: the standard three).
    """
    try:
        parsed = parse_strict(
            completion, think_opened=think_opened, tools=decode_tools(tools) if tools else None
        )
    except FormatError:
        return FORMAT_PENALTY
    return similarity(render_action(parsed.action), expert_action)


def _message_text(message: Mapping[str, object]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal form: [{"type": "text", "text": ...}, ...]
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def completion_text(completion: Completion) -> str:
    """The generated text of a TRL completion: a string, or the assistant messages of a conversation.

    Several assistant messages are joined, so a step split over two messages still counts as the
    two actions it holds (a format error) rather than silently scoring one of them.
    """
    if isinstance(completion, str):
        return completion
    if not isinstance(completion, Sequence):
        return ""  # nothing readable was generated: the format check turns it into the penalty
    parts = [_message_text(m) for m in completion if isinstance(m, Mapping) and m.get("role") == "assistant"]
    return "\n".join(parts)


def _names(tools: object) -> ToolNames:
    """A row's ``tools`` value: its text, or None (the standard tools) for anything else."""
    return tools if isinstance(tools, str) and tools else None


def _score_chunk(chunk: list[tuple[str, str, ToolNames]], think_opened: bool) -> list[float]:
    return [
        step_reward(text, target, think_opened=think_opened, tools=tools) for text, target, tools in chunk
    ]


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(processes: int) -> ProcessPoolExecutor:
    """A process pool kept for the life of the program (training scores a batch every step)."""
    pool = _POOLS.get(processes)
    if pool is None:
        # forkserver: children start clean (no copy of a trainer's threads or CUDA state), and the
        # preload list replaces the default ['__main__'] so a training script without a
        # `if __name__ == "__main__"` guard is not re-run in the server.
        if sys.platform == "win32":
            context = multiprocessing.get_context("spawn")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["swe_srl.reward"])
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        _POOLS[processes] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the worker processes ``batch_step_rewards`` started."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def default_processes() -> int:
    """This process's share of the CPUs it may run on.

    Under torchrun / accelerate every local rank scores its own batch, so the CPUs are divided by
    ``LOCAL_WORLD_SIZE`` rather than each rank starting one worker per CPU.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, cpus // max(1, ranks))


def batch_step_rewards(
    completions: Sequence[str],
    expert_actions: Sequence[str],
    processes: int | None = None,
    *,
    think_opened: bool = False,
    tools: Sequence[ToolNames] | None = None,
) -> list[float]:
    """``step_reward`` for each (completion, expert action) pair, in order.

    ``tools`` gives each pair's offered tools (None: the standard three for every pair). Large
    batches (B x G pairs) are spread over ``processes`` worker processes in chunks (default: the
    CPUs available); small ones, or ``processes=1``, are scored in this process. Both paths give
    identical results.
    """
    if len(completions) != len(expert_actions) or (tools is not None and len(tools) != len(completions)):
        count = "?" if tools is None else len(tools)
        raise ValueError(
            f"batch_step_rewards: {len(completions)} completions but {len(expert_actions)} expert actions "
            f"and {count} tool lists"
        )
    offered = [None] * len(completions) if tools is None else [_names(t) for t in tools]
    pairs = list(zip(completions, expert_actions, offered, strict=True))
    workers = default_processes() if processes is None else processes
    if workers <= 1 or len(pairs) < PARALLEL_MIN_PAIRS:
        return _score_chunk(pairs, think_opened)
    size = -(-len(pairs) // (workers * CHUNKS_PER_WORKER))
    chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
    try:
        results = list(_pool(workers).map(_score_chunk, chunks, [think_opened] * len(chunks)))
    except BrokenProcessPool:
        # A worker died (killed, out of memory): forget the pool and score here instead.
        _POOLS.pop(workers, None)
        return _score_chunk(pairs, think_opened)
    return [reward for chunk in results for reward in chunk]


def make_srl_reward(
    *, think_opened: bool = False, processes: int | None = None
) -> Callable[..., list[float]]:
    """A TRL reward function ``(completions, target, **kwargs) -> list[float]``.

    ``target`` is the dataset column with the expert's canonical action text; a ``tool_specs``
    column, when the dataset has one, gives each instance's offered tools. When TRL passes ``log_metric``,
    the batch's format-error rate is logged as ``srl/format_error_rate``.
    """

    def srl_reward(completions: Sequence[Completion], target: Sequence[str], **kwargs: object) -> list[float]:
        texts = [completion_text(c) for c in completions]
        tools = kwargs.get("tool_specs")
        offered = list(tools) if isinstance(tools, Sequence) and not isinstance(tools, str) else None
        rewards = batch_step_rewards(texts, list(target), processes, think_opened=think_opened, tools=offered)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and rewards:
            log_metric("srl/format_error_rate", sum(r == FORMAT_PENALTY for r in rewards) / len(rewards))
        return rewards

    return srl_reward


srl_reward = make_srl_reward()
srl_reward.__doc__ = """TRL reward: ``step_reward`` of each completion against its ``target`` action."""
