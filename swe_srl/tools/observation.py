"""The canonical form of an observation: the text an agent reads after one tool call.

Every observation swe-srl stores or shows is in this form, whether the environment produced it
or an importer read it from another harness's trajectory, so a model trained on imported expert
data reads the same text in ``SweEnv``:

- line endings are ``\\n`` (SWE-agent 1.0.1 ran commands on a pty and recorded ``\\r\\n``);
- ANSI escape sequences are removed (as SWE-ReX does before it returns output);
- surrounding whitespace is stripped at both ends (as SWE-agent records every observation);
- a command that printed nothing reads :data:`NO_OUTPUT`, SWE-agent's own sentence;
- output over :data:`MAX_OBSERVATION_LENGTH` characters keeps its head and SWE-agent's clipping note,
  once (:func:`clip_observation`), with the number of characters elided from the whole output;
- a command cancelled at its timeout reads SWE-agent's sentence alone (its partial output was
  never shown to the expert).

Pure functions; the tools, the environment, the importers and the context builder import them.
"""

from __future__ import annotations

import re

NO_OUTPUT = "Your command ran successfully and did not produce any output."
MAX_OBSERVATION_LENGTH = 70_000  # SWE-smith's max_observation_length (SWE-agent's default: 100,000)
CLIPPED_NOTE = (
    "<response clipped><NOTE>Observations should not exceeded {limit} characters. {elided} characters "
    "were elided. Please try a different command that produces less output or use head/tail/grep/redirect "
    "the output to a file. Do not use interactive pagers.</NOTE>"
)
TIMEOUT_MESSAGE = (
    "The command '{command}' was cancelled because it took more than {timeout:g} seconds. Please try a "
    "different command that completes more quickly. Note: A common source of this error is if the command "
    "is interactive or requires user input (it is impossible to receive user input in the current "
    "environment, so the command will never complete)."
)
# SWE-ReX's pattern: CSI and the other two-byte escapes (colours, cursor moves, erase line).
_ANSI = re.compile(r"\x1B[@-_][0-?]*[ -/]*[@-~]")


def canonical_observation(text: str) -> str:
    """``text`` in the canonical observation form (idempotent: canonical text maps to itself)."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.strip()


def command_output(text: str) -> str:
    """What a shell command's output reads as an observation: canonical, or :data:`NO_OUTPUT`."""
    return canonical_observation(text) or NO_OUTPUT


def clip_observation(text: str, limit: int = MAX_OBSERVATION_LENGTH, total: int | None = None) -> str:
    """``text`` cut to its first ``limit`` characters and SWE-agent's note, when it is longer.

    ``total`` is the length of the whole output when ``text`` is already a cut of it (the sandbox
    caps what it returns), so the note counts every elided character.
    """
    total = len(text) if total is None else max(total, len(text))
    if total <= limit:
        return text
    return text[:limit] + CLIPPED_NOTE.format(limit=limit, elided=total - limit)
