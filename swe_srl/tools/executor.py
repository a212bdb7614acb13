"""Run one agent action in a sandbox and say what happened, in SWE-agent's words.

``execute`` never raises for an agent's mistake (unknown tool, bad arguments, failing command, a path
outside the repository): those become an observation and a non-zero ``exit_code``. It raises only
when the sandbox itself fails (``SandboxError``), which the episode loop handles.

- ``bash`` runs the command in the sandbox's shell. Every observation is in the canonical form of
  ``swe_srl.tools.observation`` (SWE-agent's: stripped, ``\n`` line ends, no ANSI codes, clipped once
  with SWE-agent's note); an empty output reads "Your command ran successfully and did not produce
  any output." whatever the exit status, exactly as SWE-agent shows it to its experts
  (``exit_code`` keeps the real status); a timeout reads SWE-agent's cancellation sentence alone.
- ``str_replace_editor`` runs ``editor_script.py`` inside the sandbox. The script is installed in the
  sandbox's ``/tmp`` on first use (its name carries its content hash, so a changed script is
  installed afresh) and reads the call's arguments as base64 JSON from a here-document: nothing is
  quoted into a shell line and no argument is limited by the command-line length. Its undo history
  (the last few versions of each edited file) lives in the sandbox's ``/tmp`` too, so it lasts one
  episode: ``reset()`` starts the next with an empty ``/tmp``.
- ``submit`` ends the episode with the sandbox's diff against the base commit as the patch (empty,
  and the observation says why, when the agent broke ``.git`` so that git cannot diff).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from swe_srl.actions import FormatError, validate_action
from swe_srl.records import Action, ExecResult
from swe_srl.sandbox.base import TRUNCATION_MARKER, BrokenRepository, Sandbox
from swe_srl.tools.observation import (
    TIMEOUT_MESSAGE,
    canonical_observation,
    clip_observation,
    command_output,
)

EMPTY_PATCH = "Submitted, but the repository has no changes against the base commit (empty patch)."
BROKEN_REPOSITORY_PATCH = "Submitted, but {reason}; the patch is empty."
FORMAT_ERROR_EXIT = 2  # exit status reported for calls that never ran (bad tool or arguments)

_SCRIPT_TEXT = (Path(__file__).parent / "editor_script.py").read_text()
_STATE_DIR = "/tmp/.swe_srl"
HISTORY_DIR = f"{_STATE_DIR}/editor_history"  # the script's default STATE_DIR
SCRIPT_PATH = f"{_STATE_DIR}/editor-{hashlib.sha256(_SCRIPT_TEXT.encode()).hexdigest()[:12]}.py"
_MISSING = "__SWE_SRL_EDITOR_MISSING__"
_HEREDOC = "__SWE_SRL_EOF__"  # cannot occur in base64 text
_DECODE = "import base64,sys; sys.stdout.buffer.write(base64.b64decode(sys.stdin.read()))"


def _heredoc(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join([*(text[i : i + 76] for i in range(0, len(text), 76)), _HEREDOC])


def _editor_command(args_json: str) -> str:
    return (
        f"if [ -f {SCRIPT_PATH} ]; then python3 -I -S {SCRIPT_PATH} <<'{_HEREDOC}'\n"
        f"{_heredoc(args_json.encode())}\nelse echo {_MISSING}; fi"
    )


def _install_command() -> str:
    temp = f"{SCRIPT_PATH}.$$"
    decode = f"python3 -c '{_DECODE}' > {temp} <<'{_HEREDOC}'"
    return (
        f"mkdir -p {_STATE_DIR} && {decode} && mv -f {temp} {SCRIPT_PATH}\n{_heredoc(_SCRIPT_TEXT.encode())}"
    )


@dataclass(frozen=True)
class ToolResult:
    """What one action did: the observation the agent reads, and how the call ended."""

    observation: str
    exit_code: int
    submitted: bool = False
    timed_out: bool = False
    duration: float = 0.0
    patch: str = ""


_SANDBOX_CUT = re.compile(re.escape(TRUNCATION_MARKER).replace(r"\{dropped\}", r"(\d+)") + r"$")


def _whole(result: ExecResult) -> tuple[str, int | None]:
    """(the output the sandbox returned without its cut marker, the whole output's length if cut)."""
    match = _SANDBOX_CUT.search(result.output) if result.truncated else None
    if match is None:
        return result.output, None
    head = result.output[: match.start()]
    return head, len(head) + int(match.group(1))


def execute(sandbox: Sandbox, action: Action, timeout: float = 60.0) -> ToolResult:
    """Run ``action`` in ``sandbox``; agent mistakes come back as observations, never as exceptions."""
    start = time.monotonic()
    try:
        validate_action(action)
        _check_encodable(action)
    except FormatError as err:
        return ToolResult(str(err), FORMAT_ERROR_EXIT, duration=time.monotonic() - start)
    if action.tool == "bash":
        result = _run_bash(sandbox, str(action.args["command"]), timeout)
    elif action.tool == "str_replace_editor":
        result = _run_editor(sandbox, action, timeout)
    else:  # submit: validate_action admits no other tool
        result = _submit(sandbox)
    return ToolResult(
        observation=result.observation,
        exit_code=result.exit_code,
        submitted=result.submitted,
        timed_out=result.timed_out,
        duration=time.monotonic() - start,
        patch=result.patch,
    )


def _submit(sandbox: Sandbox) -> ToolResult:
    try:
        patch = sandbox.diff()
    except BrokenRepository as err:  # the agent broke .git: its patch is empty, and it is told why
        return ToolResult(BROKEN_REPOSITORY_PATCH.format(reason=err), 1, submitted=True, patch="")
    shown = clip_observation(canonical_observation(patch)) if patch else EMPTY_PATCH
    return ToolResult(shown, 0, submitted=True, patch=patch)


def _check_encodable(action: Action) -> None:
    """Text that is not valid Unicode (a lone surrogate) can reach neither a shell nor a file."""
    for name, value in action.args.items():
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise FormatError(
                    f"The {name!r} argument holds a character that is not valid Unicode text "
                    f"({err.object[err.start]!r} at position {err.start}, a lone surrogate); nothing was "
                    "run. Remove it and try again."
                ) from None


def _run_bash(sandbox: Sandbox, command: str, timeout: float) -> ToolResult:
    if "\0" in command:  # no shell can hold it; the sandbox would refuse the whole request
        return ToolResult("The command contains a NUL character; remove it and try again.", FORMAT_ERROR_EXIT)
    result = sandbox.run(command, timeout=timeout)
    if result.timed_out:  # SWE-agent shows the sentence alone: the partial output never reached the expert
        return ToolResult(
            TIMEOUT_MESSAGE.format(command=command, timeout=timeout), result.exit_code, timed_out=True
        )
    output, total = _whole(result)
    return ToolResult(clip_observation(command_output(output), total=total), result.exit_code)


def _run_editor(sandbox: Sandbox, action: Action, timeout: float) -> ToolResult:
    command = _editor_command(json.dumps(action.args))
    result = sandbox.run(command, timeout=timeout)
    if result.output.strip() == _MISSING:
        installed = sandbox.run(_install_command(), timeout=timeout)
        if installed.exit_code != 0:
            message = f"str_replace_editor is unavailable in this sandbox: {installed.output.strip()}"
            return ToolResult(message, installed.exit_code)
        result = sandbox.run(command, timeout=timeout)
    if result.timed_out:
        message = f"str_replace_editor was cancelled because it took more than {timeout:g} seconds."
        return ToolResult(message, result.exit_code or 124, timed_out=True)
    output, total = _whole(result)
    return ToolResult(clip_observation(canonical_observation(output), total=total), result.exit_code)


def clear_editor_history(sandbox: Sandbox) -> None:
    """Forget every file's undo history within an episode (``reset()`` already starts without one)."""
    sandbox.run(f"rm -rf {HISTORY_DIR}", timeout=30)
