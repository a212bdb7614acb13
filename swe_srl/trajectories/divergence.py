"""Why a replayed observation differs from the recorded one: nondeterminism or environment drift.

Pure functions, shared by every loop that re-executes recorded actions (``replay-check``). Both
texts are first put in the canonical observation form (recordings from other harnesses or older
versions differ in line endings and surrounding whitespace only). Then:

- ``identical``: the same text;
- ``nondeterministic``: the same once volatile details are masked: durations ("in 0.06s"), clock
  times and dates, memory addresses, process ids, temporary paths, git object ids. Running the
  same action again would differ in the same way; the environment is the one recorded;
- ``drift``: something else differs (files, versions, messages): the environment is not the one
  the trajectory was recorded in, or an earlier step changed it differently.

``first_divergence`` walks a trajectory's pairs and names the first step that is not identical,
with its kind and the first differing line of each side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from swe_srl.tools.observation import canonical_observation

IDENTICAL = "identical"
NONDETERMINISTIC = "nondeterministic"
DRIFT = "drift"

_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), mask)
    for pattern, mask in (
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?", "<timestamp>"),
        (r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b", "<clock>"),
        (r"\b\d+(?:\.\d+)?\s?(?:s|ms|us|µs|sec|secs|seconds|minutes?)\b", "<duration>"),
        (r"\b0x[0-9a-fA-F]{6,}\b", "<address>"),
        (r"\b(?:pid|PID|process)[ =:]+\d+\b", "<pid>"),
        (r"/tmp/[\w.\-]+", "/tmp/<tmp>"),
        (r"\b[0-9a-f]{7,40}\.\.[0-9a-f]{7,40}\b", "<git-ids>"),
        (r"\b[0-9a-f]{40}\b", "<sha>"),
    )
)


@dataclass(frozen=True)
class Divergence:
    """How one replayed observation compares with the recorded one."""

    kind: str  # identical | nondeterministic | drift
    recorded_line: str = ""  # the first line that differs, on each side ("" when identical)
    replayed_line: str = ""


@dataclass(frozen=True)
class FirstDivergence:
    """The first step of a trajectory whose replay is not identical."""

    step: int  # 0-based
    divergence: Divergence


def mask_volatile(text: str) -> str:
    """``text`` with durations, clock times, addresses, pids, temp paths and git ids masked."""
    for pattern, mask in _VOLATILE:
        text = pattern.sub(mask, text)
    return text


def _first_difference(recorded: str, replayed: str) -> tuple[str, str]:
    left, right = recorded.split("\n"), replayed.split("\n")
    for a, b in zip(left, right, strict=False):
        if a != b:
            return a, b
    longer = left[len(right) :] or right[len(left) :]
    extra = longer[0] if longer else ""
    return (extra, "") if len(left) > len(right) else ("", extra)


def classify(recorded: str, replayed: str) -> Divergence:
    """Compare a recorded and a replayed observation (both read in the canonical form)."""
    recorded, replayed = canonical_observation(recorded), canonical_observation(replayed)
    if recorded == replayed:
        return Divergence(IDENTICAL)
    masked_recorded, masked_replayed = mask_volatile(recorded), mask_volatile(replayed)
    kind = NONDETERMINISTIC if masked_recorded == masked_replayed else DRIFT
    left, right = (
        _first_difference(masked_recorded, masked_replayed)
        if kind == DRIFT
        else _first_difference(recorded, replayed)
    )
    return Divergence(kind, left[:200], right[:200])


def first_divergence(pairs: Iterable[tuple[str, str]]) -> FirstDivergence | None:
    """The first (recorded, replayed) pair that is not identical, classified; None if all are."""
    for step, (recorded, replayed) in enumerate(pairs):
        divergence = classify(recorded, replayed)
        if divergence.kind != IDENTICAL:
            return FirstDivergence(step, divergence)
    return None
