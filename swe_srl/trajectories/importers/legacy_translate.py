"""SWE-agent's windowed and search commands turned into the modern tools where that is exact.

A legacy command is translated only when its recorded observation pins down what the modern tool
would have done and printed:

- ``open PATH [N]`` / ``goto N`` -> ``str_replace_editor view`` with the ``view_range`` of the lines
  the window showed (read from the observation, so the range is the one the expert saw), and the
  observation rewritten as the editor prints that range (``cat -n`` numbering);
- ``create FILE`` -> ``str_replace_editor create`` with the one empty line SWE-agent 0.x wrote;
- ``find_file``, ``search_file``, ``search_dir`` -> the ``bash`` pipeline their scripts ran (the
  ``find``/``grep`` at their core), with the observation cut to what that pipeline prints.

Anything else (an error message, a search over 100 files, ``scroll_*``, ``edit N:M``) stays the
legacy tool's own call with its observation untouched. The original command and observation of
every translated step are kept in the trajectory's metadata, so the import stays lossless.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from swe_srl.records import Action, Step
from swe_srl.tools.observation import NO_OUTPUT, canonical_observation

_WINDOW_HEADER = re.compile(r"^\[File: (?P<path>.+) \((?P<total>\d+) lines total\)\]$")
_WINDOW_LINE = re.compile(r"^(\d+):(.*)$")
_MORE = re.compile(r"^\(\d+ more lines (above|below)\)$")
_FOUND = re.compile(r'^Found \d+ matches for "(?P<term>.*)" in (?P<where>/.*):$')
_NONE_FOUND = re.compile(r'^No matches found for "(?P<term>.*)" in (?P<where>/.*)$')
_END = re.compile(r'^End of matches for "(?P<term>.*)" in (?P<where>/.*)$')
_SEARCH_FILE_LINE = re.compile(r"^Line (\d+):(.*)$")
_SEARCH_DIR_LINE = re.compile(r"^(?P<file>/.+) \((?P<count>\d+) matches\)$")

VIEW_HEADER = "Here's the result of running `cat -n` on {path}:"
CREATED = "File created successfully at: {path}"


@dataclass(frozen=True)
class Translation:
    """A legacy step's modern equivalent."""

    action: Action
    observation: str


def _window(observation: str, workdir: str | None) -> tuple[str, list[tuple[int, str]]] | None:
    """(absolute path, [(line number, text)]) of a windowed file display, or None if not exactly one."""
    lines = canonical_observation(observation).split("\n")
    header = _WINDOW_HEADER.match(lines[0]) if lines else None
    if header is None:
        return None
    path = header.group("path")
    if not path.startswith("/"):
        if not workdir or not workdir.startswith("/"):
            return None  # a relative path with no known working directory cannot be made absolute
        path = posixpath.normpath(posixpath.join(workdir, path))
    shown: list[tuple[int, str]] = []
    for line in lines[1:]:
        numbered = _WINDOW_LINE.match(line)
        if numbered:
            shown.append((int(numbered.group(1)), numbered.group(2)))
        elif not _MORE.match(line):
            return None  # lint messages, warnings: more happened than a view
    numbers = [number for number, _ in shown]
    if not shown or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    return path, shown


def _view(observation: str, workdir: str | None) -> Translation | None:
    window = _window(observation, workdir)
    if window is None:
        return None
    path, shown = window
    body = "\n".join(f"{number:6}\t{text.expandtabs()}" for number, text in shown)
    action = Action(
        "str_replace_editor", {"command": "view", "path": path, "view_range": [shown[0][0], shown[-1][0]]}
    )
    return Translation(action, canonical_observation(f"{VIEW_HEADER.format(path=path)}\n{body}"))


def _create(observation: str, workdir: str | None, created_text: str) -> Translation | None:
    window = _window(observation, workdir)
    if window is None or [text for _, text in window[1]] != [""]:
        return None
    path = window[0]
    action = Action("str_replace_editor", {"command": "create", "path": path, "file_text": created_text})
    return Translation(action, CREATED.format(path=path))


def _matches(observation: str, term: str) -> tuple[str, list[str]] | None:
    """(searched path, result lines) of a search command's output for ``term``."""
    lines = canonical_observation(observation).split("\n")
    none = _NONE_FOUND.match(lines[0])
    if none and len(lines) == 1 and none.group("term") == term:
        return none.group("where"), []
    found = _FOUND.match(lines[0])
    if found is None or found.group("term") != term:
        return None
    end = _END.match(lines[-1]) if len(lines) > 1 else None
    body = lines[1:-1] if end else lines[1:]
    return found.group("where"), body


def _bash(command: str, lines: list[str]) -> Translation:
    return Translation(Action("bash", {"command": command}), "\n".join(lines) or NO_OUTPUT)


def _find_file(args: dict, observation: str) -> Translation | None:
    name = str(args["file_name"])
    found = _matches(observation, name)
    if found is None:
        return None
    where, lines = found
    return _bash(f"find {shlex.quote(where)} -type f -name {shlex.quote(name)}", lines)


def _search_file(args: dict, observation: str) -> Translation | None:
    term = str(args["search_term"])
    found = _matches(observation, term)
    if found is None:
        return None
    where, lines = found
    out = []
    for line in lines:
        match = _SEARCH_FILE_LINE.match(line)
        if match is None:
            return None
        out.append(f"{match.group(1)}:{match.group(2)}")
    return _bash(f"grep -n -- {shlex.quote(term)} {shlex.quote(where)}", out)


def _search_dir(args: dict, observation: str) -> Translation | None:
    term = str(args["search_term"])
    found = _matches(observation, term)
    if found is None:
        return None
    where, lines = found
    out = []
    for line in lines:
        match = _SEARCH_DIR_LINE.match(line)
        if match is None:
            return None
        out.append(f"{int(match.group('count')):7} {match.group('file')}")  # uniq -c's layout
    pipeline = (
        f"find {shlex.quote(where)} -type f ! -path '*/.*' -exec grep -nIH -- {shlex.quote(term)} {{}} + "
        "| cut -d: -f1 | sort | uniq -c"
    )
    return _bash(pipeline, out)


def translate(
    action: Action, observation: str, workdir: str | None = None, created_text: str = "\n"
) -> Translation | None:
    """The exact modern equivalent of one legacy call given what it printed, or None.

    ``workdir`` is the shell's directory (relative paths in a window header are read from it);
    ``created_text`` is what ``create`` wrote: one empty line in 0.x, nothing in 1.x.
    """
    tool = action.tool
    if tool in ("open", "goto"):
        return _view(observation, workdir)
    if tool == "create":
        return _create(observation, workdir, created_text)
    if tool == "find_file":
        return _find_file(action.args, observation)
    if tool == "search_file":
        return _search_file(action.args, observation)
    if tool == "search_dir":
        return _search_dir(action.args, observation)
    return None


def modernize(
    steps: list[Step], workdirs: list[str | None], created_text: str
) -> tuple[list[Step], dict[str, dict]]:
    """The steps with every exactly translatable legacy call translated; originals by step index."""
    out: list[Step] = []
    originals: dict[str, dict] = {}
    for index, step in enumerate(steps):
        translation = translate(step.action, step.observation, workdirs[index], created_text)
        if translation is None:
            out.append(step)
            continue
        originals[str(index)] = {"action": step.action.to_dict(), "observation": step.observation}
        out.append(
            Step(
                thought=step.thought,
                action=translation.action,
                observation=translation.observation,
                duration=step.duration,
                raw_action=step.raw_action,
                reward=step.reward,
            )
        )
    return out, originals
