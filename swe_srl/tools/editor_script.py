#!/usr/bin/env python3
"""The ``str_replace_editor`` tool, run inside the sandbox.

The executor copies this file into the sandbox's ``/tmp`` once and runs it as ``python3 SCRIPT``
with the tool call's arguments as base64-encoded JSON on stdin (a here-document, so no argument is
ever quoted into a shell line or limited by the command-line length). Running inside the
sandbox means path checks see the sandbox's own filesystem, so behaviour is the same on every
backend. Observations and exit codes follow SWE-agent's ``str_replace_editor`` (the tool the expert
trajectories were written with), including its file map of large Python files, its snippet windows
and its messages. Deliberate differences:

- paths must resolve (symlinks and ``..`` followed) to somewhere under ``/testbed``;
- a directory listing is sorted, so it does not depend on the filesystem's order;
- ``str_replace`` matches the text as it is first; only when that fails on a file holding tabs does it
  fall back to SWE-agent's tab-expanding match (which rewrites the file's tabs as spaces);
- files are read as UTF-8 with undecodable bytes kept as they are (surrogateescape), so an edit never
  changes bytes it did not touch; such bytes print as U+FFFD.

Standard library only, and Python 3.6 compatible: task images ship old interpreters.
"""
# ruff: noqa: UP006, UP035, UP032, UP031, UP045

import base64
import io
import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing at run time costs each call milliseconds
    from typing import List, Optional, Tuple

TESTBED = "/testbed"
STATE_DIR = os.environ.get("SWE_SRL_EDITOR_STATE", "/tmp/.swe_srl/editor_history")
MAX_RESPONSE_LEN = 16000
HISTORY_DEPTH = 32  # edits of one file that undo_edit can take back
SNIPPET_LINES = 4
TRUNCATED_MESSAGE = (
    "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should "
    "retry this tool after you have searched inside the file with `grep -n` in order to find the line "
    "numbers of what you are looking for.</NOTE>"
)
FILEMAP_NOTE = (
    "<NOTE>This file is too large to display entirely. Showing abbreviated version. Please use "
    "`str_replace_editor view` with the `view_range` parameter to show selected lines next.</NOTE>"
)
FILEMAP_FOOTER = (
    "<IMPORTANT><NOTE>The above file has been abbreviated. Please use `str_replace editor view` with "
    "`view_range` to look at relevant files in detail.</NOTE></IMPORTANT>"
)
COMMANDS = ("view", "create", "str_replace", "insert", "undo_edit")


class ToolError(Exception):
    """An agent mistake: the message is the observation, ``code`` the exit status (SWE-agent's codes)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------
# Files


def read_text(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", errors="surrogateescape")


def write_text(path: str, text: str) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(text.encode("utf-8", errors="surrogateescape"))
    except OSError as err:
        raise ToolError("Ran into {} while trying to write to {}".format(err, path), 20) from None


def _history_dir(path: str) -> str:
    import hashlib  # only edits keep history

    return os.path.join(STATE_DIR, hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest())


def push_history(path: str, text: str) -> None:
    directory = _history_dir(path)
    os.makedirs(directory, exist_ok=True)
    entries = sorted(os.listdir(directory))
    number = int(entries[-1]) + 1 if entries else 1
    with open(os.path.join(directory, "%08d" % number), "wb") as handle:
        handle.write(text.encode("utf-8", errors="surrogateescape"))
    for old in entries[: max(0, len(entries) + 1 - HISTORY_DEPTH)]:  # a full copy per edit: keep the last few
        os.remove(os.path.join(directory, old))


def pop_history(path: str) -> "Optional[str]":
    directory = _history_dir(path)
    entries = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    if not entries:
        return None
    last = os.path.join(directory, entries[-1])
    text = read_text(last)
    os.remove(last)
    return text


# ---------------------------------------------------------------------------------------------
# Output


def maybe_truncate(content: str, limit: int = MAX_RESPONSE_LEN) -> str:
    return content if len(content) <= limit else content[:limit] + TRUNCATED_MESSAGE


def make_output(content: str, descriptor: str, init_line: int = 1) -> str:
    """``cat -n``-style numbering, as SWE-agent prints it."""
    content = maybe_truncate(content).expandtabs()
    numbered = "\n".join("{:6}\t{}".format(i + init_line, line) for i, line in enumerate(content.split("\n")))
    return "Here's the result of running `cat -n` on {}:\n".format(descriptor) + numbered + "\n"


def file_map(content: str) -> str:
    """SWE-agent's abbreviated view of a large Python file: long function bodies elided."""
    import ast  # only large Python files need it

    tree = ast.parse(content)
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])]) - 1
            end = getattr(node.body[-1], "end_lineno", None) or start
            if end - 1 - start >= 5:
                ranges.append((start, end - 1))
    elided = {line for start, end in ranges for line in range(start, end + 1)}
    entries = [(start, "... eliding lines {}-{} ...".format(start + 1, end + 1)) for start, end in ranges]
    entries += [(i, line) for i, line in enumerate(content.splitlines()) if i not in elided]
    return "\n".join("{:6d} {}".format(i + 1, line) for i, line in sorted(entries))


def list_directory(path: str) -> str:
    """Like ``find PATH -maxdepth 2 -not -path '*/.*'``, sorted."""
    lines = [] if "/." in path else [path]
    for name in sorted(os.listdir(path)):
        child = os.path.join(path, name)
        if name.startswith(".") or "/." in path:
            continue
        lines.append(child)
        if os.path.isdir(child) and not os.path.islink(child):
            try:
                names = sorted(os.listdir(child))
            except OSError:
                continue
            lines.extend(os.path.join(child, sub) for sub in names if not sub.startswith("."))
    return "Here's the files and directories up to 2 levels deep in {}, excluding hidden items:\n{}\n".format(
        path, "\n".join(lines)
    )


# ---------------------------------------------------------------------------------------------
# Paths


def validate_path(command: str, path: str) -> str:
    """Check the path for ``command``; returns it normalised the way SWE-agent prints it."""
    if not os.path.isabs(path):
        suggested = os.path.join(TESTBED, path)
        raise ToolError(
            "The path {} is not an absolute path, it should start with `/`. Maybe you meant {}?".format(
                path, suggested
            ),
            6,
        )
    shown = "/" + "/".join(part for part in path.split("/") if part and part != ".")
    root = os.path.realpath(TESTBED)
    resolved = os.path.realpath(path)
    if resolved != root and not resolved.startswith(root + os.sep):
        raise ToolError(
            "The path {} is outside the repository: the editor only works on files under {}.".format(
                shown, TESTBED
            ),
            22,
        )
    exists = os.path.exists(resolved)
    if not exists and command != "create":
        raise ToolError("The path {} does not exist. Please provide a valid path.".format(shown), 7)
    if (exists or os.path.islink(path)) and command == "create":
        raise ToolError(
            "File already exists at: {}. Cannot overwrite files using command `create`.".format(shown), 8
        )
    if os.path.isdir(resolved) and command != "view":
        raise ToolError(
            "The path {} is a directory and only the `view` command can be used on directories".format(shown),
            9,
        )
    return shown


# ---------------------------------------------------------------------------------------------
# Commands


def view(path: str, view_range: "Optional[List[int]]") -> str:
    if os.path.isdir(path):
        if view_range:
            raise ToolError(
                "The `view_range` parameter is not allowed when `path` points to a directory.", 10
            )
        return list_directory(path)
    content = read_text(path)
    if not view_range:
        if path.endswith(".py") and len(content) > MAX_RESPONSE_LEN:
            try:
                abbreviated = file_map(content)
            except (SyntaxError, ValueError, RecursionError):
                pass  # not parseable: show the clipped file instead
            else:
                return "\n".join([FILEMAP_NOTE, maybe_truncate(abbreviated.expandtabs()), FILEMAP_FOOTER])
        return make_output(content, path)
    if len(view_range) != 2 or not all(isinstance(i, int) and not isinstance(i, bool) for i in view_range):
        raise ToolError("Invalid `view_range`. It should be a list of two integers.", 11)
    lines = content.split("\n")
    count = len(lines)
    first, last = view_range
    if first < 1 or first > count:
        raise ToolError(
            "Invalid `view_range`: {}. Its first element `{}` should be within the range of lines of the "
            "file: {}".format(view_range, first, [1, count]),
            12,
        )
    if last > count:
        raise ToolError(
            "Invalid `view_range`: {}. Its second element `{}` should be smaller than the number of lines in "
            "the file: `{}`".format(view_range, last, count),
            13,
        )
    if last != -1 and last < first:
        raise ToolError(
            "Invalid `view_range`: {}. Its second element `{}` should be larger or equal than its first "
            "`{}`".format(view_range, last, first),
            14,
        )
    last = count if last == -1 else last
    return make_output("\n".join(lines[first - 1 : last]), path, init_line=first)


def create(path: str, file_text: str) -> str:
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise ToolError("The parent directory {} does not exist. Please create it first.".format(parent), 21)
    write_text(path, file_text)
    push_history(path, file_text)
    return "File created successfully at: {}".format(path)


def _find_old_str(content: str, old_str: str, new_str: str) -> "Tuple[str, str, str]":
    """The (content, old_str, new_str) to edit with: as written, or SWE-agent's tab-expanded form."""
    if content.count(old_str) == 0 and "\t" in content:
        return content.expandtabs(), old_str.expandtabs(), new_str.expandtabs()
    return content, old_str, new_str


def str_replace(path: str, old_str: str, new_str: "Optional[str]") -> str:
    original = read_text(path)
    content, old_str, new_str = _find_old_str(original, old_str, new_str or "")
    occurrences = content.count(old_str) if old_str else 0
    if occurrences == 0:
        raise ToolError(
            "No replacement was performed, old_str `{}` did not appear verbatim in {}.".format(old_str, path),
            15,
        )
    if occurrences > 1:
        starts = _occurrence_lines(content, old_str)
        raise ToolError(
            "No replacement was performed. Multiple occurrences of old_str `{}` in lines {}. "
            "Please ensure it is unique".format(old_str, starts),
            16,
        )
    if new_str == old_str:
        raise ToolError(
            "No replacement was performed, old_str `{}` is the same as new_str `{}`.".format(
                old_str, new_str
            ),
            161,
        )
    new_content = content.replace(old_str, new_str)
    write_text(path, new_content)
    push_history(path, original)
    replacement_line = content.split(old_str)[0].count("\n")
    start = max(1, replacement_line - SNIPPET_LINES)
    end = min(replacement_line + SNIPPET_LINES + new_str.count("\n"), len(new_content.splitlines()))
    snippet = "\n".join(new_content.split("\n")[start - 1 : end])
    return (
        "The file {} has been edited. ".format(path)
        + make_output(snippet, "a snippet of {}".format(path), start)
        + "Review the changes and make sure they are as expected. Edit the file again if necessary."
    )


def _occurrence_lines(content: str, old_str: str) -> "List[int]":
    """1-based line numbers where each occurrence of ``old_str`` starts (multi-line strings included)."""
    lines = []
    index = content.find(old_str)
    while index >= 0:
        lines.append(content.count("\n", 0, index) + 1)
        index = content.find(old_str, index + 1)
    return lines


def insert(path: str, insert_line: int, new_str: str) -> str:
    original = read_text(path)
    lines = original.split("\n")
    if (
        isinstance(insert_line, bool)
        or not isinstance(insert_line, int)
        or not 0 <= insert_line <= len(lines)
    ):
        raise ToolError(
            "Invalid `insert_line` parameter: {}. It should be within the range of lines of the "
            "file: {}".format(insert_line, [0, len(lines)]),
            17,
        )
    new_lines = new_str.split("\n")
    write_text(path, "\n".join(lines[:insert_line] + new_lines + lines[insert_line:]))
    push_history(path, original)
    snippet = "\n".join(
        lines[max(0, insert_line - SNIPPET_LINES) : insert_line]
        + new_lines
        + lines[insert_line : insert_line + SNIPPET_LINES]
    )
    return (
        "The file {} has been edited. ".format(path)
        + make_output(snippet, "a snippet of the edited file", max(1, insert_line - SNIPPET_LINES + 1))
        + "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, "
        "etc). Edit the file again if necessary."
    )


def undo_edit(path: str) -> str:
    previous = pop_history(path)
    if previous is None:
        raise ToolError("No edit history found for {}.".format(path), 18)
    write_text(path, previous)
    return "Last edit to {} undone successfully. {}".format(path, make_output(previous, path))


def run(args: dict) -> str:
    command = args.get("command")
    if command not in COMMANDS:
        raise ToolError(
            "Unrecognized command {}. The allowed commands for the str_replace_editor tool are: {}".format(
                command, ", ".join('"{}"'.format(name) for name in COMMANDS)
            ),
            5,
        )
    raw_path = args.get("path")
    if not isinstance(raw_path, str) or not raw_path:
        raise ToolError("Parameter `path` is required for command: {}".format(command), 6)
    path = validate_path(command, raw_path)
    if command == "view":
        return view(path, args.get("view_range"))
    if command == "create":
        if args.get("file_text") is None:
            raise ToolError("Parameter `file_text` is required for command: create", 1)
        return create(path, args["file_text"])
    if command == "str_replace":
        if args.get("old_str") is None:
            raise ToolError("Parameter `old_str` is required for command: str_replace", 2)
        return str_replace(path, args["old_str"], args.get("new_str"))
    if command == "insert":
        if args.get("insert_line") is None:
            raise ToolError("Parameter `insert_line` is required for command: insert", 3)
        if args.get("new_str") is None:
            raise ToolError("Parameter `new_str` is required for command: insert", 4)
        return insert(path, args["insert_line"], args["new_str"])
    return undo_edit(path)


def main() -> int:
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace")
    try:
        args = json.loads(base64.b64decode(sys.stdin.read()).decode("utf-8", errors="surrogateescape"))
        if not isinstance(args, dict):
            raise ValueError("the arguments must be a JSON object")
        message, code = run(args), 0
    except ToolError as err:
        message, code = str(err), err.code
    except (OSError, UnicodeError, ValueError) as err:
        message, code = "str_replace_editor failed: {}: {}".format(type(err).__name__, err), 23
    out.write(message.rstrip("\n") + "\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
