"""SWE-agent command strings (``trajectory[].action``) as structured actions.

SWE-agent writes every action as the command line it ran. For ``str_replace_editor`` that line is
the tool's own CLI (``str_replace_editor view /testbed/x.py --view_range 1 20``, values quoted for a
POSIX shell), so it parses back to the same arguments as the model's tool call. Other special
commands (``open``, ``edit N:M``, ``find_file`` ...) become calls of their own tool
(``swe_srl.tools.legacy``), read with the trajectory's own command documentation where it has one.
A special command too malformed to parse ran as what it was in SWE-agent 0.x, a shell function, so
it stays a ``bash`` call with the whole line: nothing is guessed.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from swe_srl.records import Action, ArgValue
from swe_srl.tools.legacy import LEGACY_TOOLS, parse_legacy_command
from swe_srl.tools.schema import STR_REPLACE_EDITOR, ToolSpec


def _parse_editor_line(line: str) -> Action | None:
    """``str_replace_editor <command> <path> [--flag value...]`` as an action, or None if malformed."""
    try:
        tokens = shlex.split(line)
    except ValueError:
        return None
    if len(tokens) < 3 or tokens[0] != STR_REPLACE_EDITOR.name:
        return None
    args: dict[str, ArgValue] = {"command": tokens[1], "path": tokens[2]}
    pos = 3
    while pos < len(tokens):
        flag = tokens[pos]
        name = flag[2:]
        param = STR_REPLACE_EDITOR.param(name) if flag.startswith("--") else None
        if param is None:
            return None
        width = 2 if param.kind == "array" else 1
        values = tokens[pos + 1 : pos + 1 + width]
        if len(values) != width:
            return None
        try:
            if param.kind == "array":
                args[name] = [int(value) for value in values]
            elif param.kind == "integer":
                args[name] = int(values[0])
            else:
                args[name] = values[0]
        except ValueError:
            return None
        pos += 1 + width
    return Action(tool=STR_REPLACE_EDITOR.name, args=args)


def parse_command_line(text: str, specs: Mapping[str, ToolSpec] = LEGACY_TOOLS) -> Action:
    """The action a SWE-agent command line stands for (never fails: anything else is bash).

    ``specs`` are the special commands the trajectory offered (its documentation, else 0.x's).
    """
    command = text.strip()
    head = command.split(maxsplit=1)[0] if command else ""
    if command == "submit":
        return Action(tool="submit")
    if head == STR_REPLACE_EDITOR.name:
        action = _parse_editor_line(command)
        if action is not None:
            return action
    legacy = parse_legacy_command(command, specs)
    if legacy is not None:
        return legacy
    return Action(tool="bash", args={"command": command})
