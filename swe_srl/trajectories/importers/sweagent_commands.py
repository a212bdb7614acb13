"""SWE-agent command strings (``trajectory[].action``) as structured actions.

SWE-agent writes every action as the command line it ran. For ``str_replace_editor`` that line is
the tool's own CLI (``str_replace_editor view /testbed/x.py --view_range 1 20``, values quoted for a
POSIX shell), so it parses back to the same arguments as the model's tool call. Other special
commands of SWE-agent (``open``, ``edit``, ``goto``, ...) have no spec in ``swe_srl.tools.schema``:
they stay actions of their own tool name with the whole line as the ``command`` argument, so
nothing is lost and the step builder can still filter them out.
"""

from __future__ import annotations

import re
import shlex

from swe_srl.records import Action, ArgValue
from swe_srl.tools.schema import STR_REPLACE_EDITOR

# SWE-agent's special commands across its releases (0.x default/xml configs and 1.x bundles).
KNOWN_SPECIAL_COMMANDS = frozenset(
    {
        "open",
        "goto",
        "scroll_up",
        "scroll_down",
        "create",
        "edit",
        "insert",
        "append",
        "search_dir",
        "search_file",
        "find_file",
        "get_symbols",
        "summarize",
        "filemap",
    }
)
_DOC_NAME = re.compile(r"^([a-z_][a-z0-9_]*):\n  docstring:", re.MULTILINE)  # 1.x command_docs
_LEGACY_DOC = re.compile(r"^([a-z_][a-z0-9_]*)(?: [^\n]*)? - ", re.MULTILINE)  # 0.x "COMMANDS:" lines


def documented_commands(docs: str) -> set[str]:
    """Command names declared in a SWE-agent command documentation text (either generation)."""
    names = set(_DOC_NAME.findall(docs)) | set(_LEGACY_DOC.findall(docs))
    return names - {"bash"}


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


def parse_command_line(
    text: str, special_commands: frozenset[str] | set[str] = KNOWN_SPECIAL_COMMANDS
) -> Action:
    """The action a SWE-agent command line stands for (never fails: unknown lines are bash)."""
    command = text.strip()
    head = command.split(maxsplit=1)[0] if command else ""
    if command == "submit":
        return Action(tool="submit")
    if head == STR_REPLACE_EDITOR.name:
        action = _parse_editor_line(command)
        if action is not None:
            return action
    if head in special_commands:
        return Action(tool=head, args={"command": command})
    return Action(tool="bash", args={"command": command})
