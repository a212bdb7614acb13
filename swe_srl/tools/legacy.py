"""The special commands of pre-1.0 SWE-agent, as tools of their own (for imported expert data).

SWE-agent 0.x gave its agents shell functions beside bash: a windowed file viewer (``open``,
``goto``, ``scroll_up``, ``scroll_down``, ``create``), line-range editing (``edit N:M``, the new
lines, ``end_of_edit``) and search (``find_file``, ``search_dir``, ``search_file``). The importer turns
the ones with an exact modern equivalent into ``bash`` or ``str_replace_editor`` calls; every other
one stays a tool of its own, specified here with the arguments SWE-agent's own tool configuration
gives it, so the step prompt can describe it and the SRL format check can accept it. ``edit N:M``
is never turned into a ``str_replace``: that would guess text the expert never wrote.

A tool a trajectory used but nowhere documents is described by its calls (``spec_from_calls``).

A trajectory's own command documentation, where it has one, is the authority: SWE-agent 1.x's
``edit`` (search/replace) is not 0.x's ``edit N:M``. ``specs_from_docs`` reads it;
``encode_tools``/``decode_tools`` carry an instance's offered tools in one string column for the
reward's format check; ``parse_legacy_command`` reads a command line into a call. Pure.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from functools import lru_cache

from swe_srl.records import Action, ArgValue
from swe_srl.tools.schema import TOOLS, Param, ToolSpec

END_OF_EDIT = "end_of_edit"
_RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _spec(name: str, description: str, *params: Param) -> ToolSpec:
    return ToolSpec(name=name, description=description, params=params)


LEGACY_TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "open",
            "Opens the file at the given path in the editor. If line_number is provided, the window is "
            "moved to include that line.",
            Param("path", "string", "The path to the file to open.", required=True),
            Param("line_number", "integer", "The line number to move the window to."),
        ),
        _spec(
            "goto",
            "Moves the window to show line_number.",
            Param("line_number", "integer", "The line number to move the window to.", required=True),
        ),
        _spec("scroll_up", "Moves the window up 100 lines."),
        _spec("scroll_down", "Moves the window down 100 lines."),
        _spec(
            "create",
            "Creates and opens a new file with the given name.",
            Param("filename", "string", "The name of the file to create.", required=True),
        ),
        _spec(
            "edit",
            "Replaces lines start_line through end_line (inclusive) with the given text in the open "
            "file. All of the replacement text is entered, so indent it properly.",
            Param("start_line", "integer", "The line number to start the edit at.", required=True),
            Param("end_line", "integer", "The line number to end the edit at (inclusive).", required=True),
            Param("replacement_text", "string", "The text to replace the lines with.", required=True),
        ),
        _spec(
            "find_file",
            "Finds all files with the given name or pattern in dir (default: the current directory).",
            Param("file_name", "string", "The name of the file or pattern to search for.", required=True),
            Param("dir", "string", "The directory to search in."),
        ),
        _spec(
            "search_dir",
            "Searches for search_term in all files in dir (default: the current directory).",
            Param("search_term", "string", "The term to search for.", required=True),
            Param("dir", "string", "The directory to search in."),
        ),
        _spec(
            "search_file",
            "Searches for search_term in file (default: the open file).",
            Param("search_term", "string", "The term to search for.", required=True),
            Param("file", "string", "The file to search in."),
        ),
    )
}


def known_spec(name: str) -> ToolSpec | None:
    """The spec of a standard or legacy tool (their names never collide), None for others."""
    return TOOLS.get(name) or LEGACY_TOOLS.get(name)


# ---------------------------------------------------------------------------------------------
# A trajectory's own command documentation (SWE-agent's "COMMANDS:" section / command_docs)

_DOC_BLOCK = re.compile(
    r"^([a-z_][a-z0-9_]*):\n  docstring: (.*?)(?=^[a-z_][a-z0-9_]*:\n  docstring: |\Z)", re.M | re.S
)
_DOC_ARG = re.compile(r"^    - (\S+) \((\w+)\) \[(required|optional)\]: (.*)$", re.M)
_KINDS = {"integer": "integer", "array": "array"}  # everything else is passed as text


def specs_from_docs(docs: str) -> dict[str, ToolSpec]:
    """The commands a SWE-agent command documentation declares (standard tools left out)."""
    specs: dict[str, ToolSpec] = {}
    for match in _DOC_BLOCK.finditer(docs):
        name, body = match.group(1), match.group(2)
        if name in TOOLS:
            continue
        docstring = body.split("\n  signature:", 1)[0].split("\n  arguments:", 1)[0].strip()
        params = tuple(
            Param(arg, _KINDS.get(kind, "string"), text.strip(), required=need == "required")
            for arg, kind, need, text in _DOC_ARG.findall(body)
        )
        specs[name] = ToolSpec(name=name, description=docstring, params=params)
    return specs


# ---------------------------------------------------------------------------------------------
# The tools of a step instance, as one string column (empty: the standard tools)


def encode_tools(specs: Iterable[ToolSpec]) -> str:
    """The offered tools as compact JSON: standard ones by name, others with their parameters."""
    specs = tuple(specs)
    if tuple(spec.name for spec in specs) == tuple(TOOLS) and all(TOOLS[s.name] == s for s in specs):
        return ""
    items: list[str | dict] = []
    for spec in specs:
        if TOOLS.get(spec.name) == spec:
            items.append(spec.name)
            continue
        params = [[p.name, p.kind, p.required, list(p.enum)] for p in spec.params]
        items.append({"name": spec.name, "params": params})
    return json.dumps(items, separators=(",", ":"))


@lru_cache(maxsize=1024)
def decode_tools(text: str) -> dict[str, ToolSpec]:
    """The tool specs of an :func:`encode_tools` string ("" or malformed text: the standard tools)."""
    if not text:
        return dict(TOOLS)
    try:
        items = json.loads(text)
        catalog: dict[str, ToolSpec] = {}
        for item in items:
            if isinstance(item, str):
                catalog[item] = TOOLS[item]
                continue
            params = tuple(Param(n, k, "", required=bool(r), enum=tuple(e)) for n, k, r, e in item["params"])
            catalog[str(item["name"])] = ToolSpec(name=str(item["name"]), description="", params=params)
        return catalog
    except (ValueError, TypeError, KeyError):
        return dict(TOOLS)


def spec_to_dict(spec: ToolSpec) -> dict:
    """A spec as JSON data (kept in a trajectory's metadata, descriptions included)."""
    params = [
        {
            "name": p.name,
            "kind": p.kind,
            "description": p.description,
            "required": p.required,
            "enum": list(p.enum),
        }
        for p in spec.params
    ]
    return {"name": spec.name, "description": spec.description, "params": params}


def spec_from_dict(data: Mapping) -> ToolSpec:
    """The spec :func:`spec_to_dict` wrote (``KeyError``/``TypeError`` when malformed)."""
    params = tuple(
        Param(
            str(p["name"]),
            str(p.get("kind", "string")),
            str(p.get("description", "")),
            required=bool(p.get("required", False)),
            enum=tuple(p.get("enum") or ()),
        )
        for p in data.get("params") or ()
    )
    return ToolSpec(name=str(data["name"]), description=str(data.get("description", "")), params=params)


def described(spec: ToolSpec, description: str) -> ToolSpec:
    """``spec`` with the description a trajectory's own command documentation gives it."""
    return ToolSpec(name=spec.name, description=description.strip() or spec.description, params=spec.params)


def _edit_args(text: str) -> dict[str, ArgValue] | None:
    """``edit N:M`` + replacement lines + ``end_of_edit`` (the terminator is required: never guessed)."""
    first, _, rest = text.partition("\n")
    match = _RANGE.match(first.removeprefix("edit"))
    if match is None:
        return None
    lines = rest.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or lines[-1].strip() != END_OF_EDIT:
        return None
    return {
        "start_line": int(match.group(1)),
        "end_line": int(match.group(2)),
        "replacement_text": "\n".join(lines[:-1]),
    }


def _positional_args(spec: ToolSpec, tokens: list[str]) -> dict[str, ArgValue] | None:
    if len(tokens) > len(spec.params) or len(tokens) < len(spec.required):
        return None
    args: dict[str, ArgValue] = {}
    for param, token in zip(spec.params, tokens, strict=False):
        if param.kind == "integer":
            if not re.fullmatch(r"[+-]?\d+", token):
                return None
            args[param.name] = int(token)
        else:
            args[param.name] = token
    return args


def parse_legacy_command(text: str, specs: Mapping[str, ToolSpec] = LEGACY_TOOLS) -> Action | None:
    """The call of one of ``specs`` that a command line stands for, or None (not one, or malformed).

    ``specs`` are the trajectory's documented commands (default: SWE-agent 0.x's). ``edit N:M``
    needs its ``end_of_edit`` line; other commands take their arguments positionally, quoted for a
    POSIX shell, as SWE-agent parsed them.
    """
    command = text.strip()
    head = command.split(maxsplit=1)[0] if command else ""
    spec = specs.get(head)
    if spec is None or head in TOOLS:
        return None
    names = spec.param_names
    if names == ("start_line", "end_line", "replacement_text"):
        args = _edit_args(command)
        return None if args is None else Action(head, args)
    if "\n" in command:
        return None
    try:
        tokens = shlex.split(command)[1:]
    except ValueError:
        return None
    args = _positional_args(spec, tokens)
    return None if args is None else Action(head, args)


def spec_from_openai_tool(schema: Mapping) -> ToolSpec | None:
    """A tool declared as an OpenAI function schema (a row's ``tools`` column), or None if malformed."""
    function = schema.get("function") if isinstance(schema.get("function"), Mapping) else schema
    name = function.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    parameters = function.get("parameters") if isinstance(function.get("parameters"), Mapping) else {}
    properties = parameters.get("properties") if isinstance(parameters.get("properties"), Mapping) else {}
    required = set(parameters.get("required") or ())
    params = []
    for arg, prop in properties.items():
        prop = prop if isinstance(prop, Mapping) else {}
        kind = {"integer": "integer", "array": "array"}.get(str(prop.get("type")), "string")
        enum = tuple(str(v) for v in prop.get("enum") or ()) if kind == "string" else ()
        text = str(prop.get("description") or "").strip()
        params.append(Param(str(arg), kind, text, required=arg in required, enum=enum))
    description = str(function.get("description") or "").strip()
    return ToolSpec(name=name, description=description, params=tuple(params))


def _kind(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, list):
        return "array"
    return "string"


def spec_from_calls(name: str, calls: Iterable[Mapping[str, object]], description: str = "") -> ToolSpec:
    """A tool described only by how it was called: its arguments, typed by their values.

    An argument present in every call is required. For tools a trajectory used but nowhere
    documents (Moatless actions, OpenHands' ``think``), so the expert's own calls validate.
    """
    calls = list(calls)
    order: dict[str, str] = {}
    for args in calls:
        for arg, value in args.items():
            order.setdefault(arg, _kind(value))
    params = tuple(
        Param(arg, kind, "", required=all(arg in args for args in calls)) for arg, kind in order.items()
    )
    return ToolSpec(
        name=name, description=description or f"The {name} tool of the trajectory's harness.", params=params
    )
