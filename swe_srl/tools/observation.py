"""The canonical form of an observation: the text an agent reads after one tool call.

Every observation swe-srl stores or shows is in this form, whether the environment produced it
or an importer read it from another harness's trajectory, so a model trained on imported expert
data reads the same text in ``SweEnv``:

- line endings are ``\\n`` (SWE-agent 1.0.1 ran commands on a pty and recorded ``\\r\\n``);
- ANSI escape sequences are removed (as SWE-ReX does before it returns output);
- surrounding whitespace is stripped at both ends (as SWE-agent records every observation);
- a command that printed nothing reads :data:`NO_OUTPUT`, SWE-agent's own sentence.

Pure functions; the tools, the environment, the importers and the context builder import them.
"""

from __future__ import annotations

import re

NO_OUTPUT = "Your command ran successfully and did not produce any output."
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
