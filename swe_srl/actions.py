"""Parse model text into actions and render the canonical action text.

The canonical text of an action is SWE-smith's XML function-call format::

    <function=str_replace_editor>
    <parameter=command>view</parameter>
    <parameter=path>/testbed/x.py</parameter>
    </function>

One line starts each parameter; values are written verbatim and may span lines, except that the
block parameters ``file_text``, ``old_str`` and ``new_str`` get one newline after the opening tag
and one before the closing tag, exactly as SWE-smith's trajectory converter writes them (the parser
removes exactly those two newlines, so whitespace at a value's ends survives). Parameters follow
the tool's spec order (``swe_srl.tools.schema``); tools without a spec keep their arguments' order.
``parse_action(render_action(a)) == a`` for every schema-valid action. The one action this text
cannot represent is one whose value contains ``</parameter>``: the value ends at its first
``</parameter>``, so such an action renders deterministically but does not parse back to itself.

Three parsers read model text:

- ``parse_action``: exactly one call in the XML format, nothing else.
- ``parse_completion``: lenient, for the agent loop. Finds one call written as XML, as an
  OpenAI-style JSON tool call (bare, in a json fence or in ``<tool_call>`` tags) or as a fenced
  bash block (mini-swe-agent style). Its errors are written for the model to read.
- ``parse_strict``: the SRL reward's format check. A ``<think>...</think>`` block, then exactly one
  XML call of a known tool with valid arguments, then nothing but whitespace. JSON and bash-fence
  calls are rejected here on purpose: the SRL target is the canonical XML text, so a completion in
  another format is not in the format the reward compares against.

Everything here is pure: no IO.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from swe_srl.records import Action, ArgValue
from swe_srl.tools.calls import (
    TOOL_NAME,
    ActionParseError,
    FormatError,
    action_from_tool_call,
    coerce_args,
    json_tool_calls,
    validate_action,
)
from swe_srl.tools.legacy import known_spec
from swe_srl.tools.schema import TOOLS, ToolSpec

__all__ = [
    "ActionParseError",
    "FormatError",
    "ParsedCompletion",
    "action_from_tool_call",
    "coerce_args",
    "parse_action",
    "parse_completion",
    "parse_strict",
    "render_action",
    "validate_action",
]

FORMAT_EXAMPLE = "<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>"
FORMAT_HINT = (
    "End your reply with exactly one function call in this format:\n"
    f"{FORMAT_EXAMPLE}\n"
    "(one <parameter=NAME>VALUE</parameter> per argument; values may span several lines)."
)

_FUNCTION_OPEN = re.compile(r"<function=([^>\n]*)>")
_PARAM_OPEN = re.compile(r"<parameter=([^>\n]*)>")
_PARAM_CLOSE = "</parameter>"
_SPACE = re.compile(r"\s*")
_FUNCTION_CLOSE = "</function>"
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
# SWE-smith writes these values on their own lines (its XML_STR_REPLACES); a legacy ``edit``'s text too.
BLOCK_PARAMS = frozenset({"file_text", "old_str", "new_str", "replacement_text"})
# Tool names other harnesses use for the same tools (SWE-Gym / OpenHands), read by the lenient parser.
TOOL_ALIASES = {"execute_bash": "bash", "finish": "submit"}
# mini-swe-agent writes its commands in ```mswea_bash_command fences (older versions: ```bash).
_BASH_FENCE = re.compile(r"```(?:bash|sh|shell|mswea_bash_command)[ \t]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ParsedCompletion:
    """One model reply split into its monologue and its action."""

    thought: str
    action: Action
    format: str  # "xml" | "json" | "bash"


# ---------------------------------------------------------------------------------------------
# Rendering


def _render_value(value: ArgValue) -> str:
    if isinstance(value, bool):  # bool is an int subclass; keep it readable, never "True"/"1" ambiguity
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def _ordered_names(action: Action) -> list[str]:
    spec = known_spec(action.tool)
    if spec is None:
        return list(action.args)
    known = [name for name in spec.param_names if name in action.args]
    extra = [name for name in action.args if spec.param(name) is None]
    return known + extra


def render_action(action: Action) -> str:
    """The canonical text of ``action`` (SWE-smith's XML function call), without a trailing newline."""
    lines = [f"<function={action.tool}>"]
    for name in _ordered_names(action):
        value = _render_value(action.args[name])
        if name in BLOCK_PARAMS:
            value = f"\n{value}\n"
        lines.append(f"<parameter={name}>{value}{_PARAM_CLOSE}")
    lines.append(_FUNCTION_CLOSE)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The XML format


@dataclass(frozen=True)
class _XmlCall:
    action: Action
    start: int
    end: int  # index just after "</function>" (or the end of the text when it was missing)


def _parse_xml_at(text: str, match: re.Match[str], *, strict: bool) -> _XmlCall:
    """Parse the call whose ``<function=NAME>`` is ``match``."""
    tool = match.group(1).strip()
    if not TOOL_NAME.match(tool):
        raise ActionParseError(f"Invalid tool name {tool!r} in <function=...>. {FORMAT_HINT}")
    args: dict[str, str] = {}
    pos = match.end()
    while True:
        pos = _SPACE.match(text, pos).end()  # a slice per parameter would make parsing quadratic
        if text.startswith(_FUNCTION_CLOSE, pos):
            pos += len(_FUNCTION_CLOSE)
            break
        if pos >= len(text):
            if strict:
                raise FormatError(f"The function call is not closed with {_FUNCTION_CLOSE}.")
            break
        param = _PARAM_OPEN.match(text, pos)
        if param is None:
            if strict:
                snippet = text[pos : pos + 40]
                raise FormatError(f"Unexpected text {snippet!r} inside the function call; {FORMAT_HINT}")
            # From pos + 1: the stray text may itself start with a broken "<parameter=" tag.
            pos = _skip_stray_text(text, pos + 1)
            continue
        name = param.group(1).strip()
        close = text.find(_PARAM_CLOSE, param.end())
        if close < 0:
            raise ActionParseError(f"Parameter {name!r} is not closed with {_PARAM_CLOSE}. {FORMAT_HINT}")
        if not TOOL_NAME.match(name):
            raise ActionParseError(f"Invalid parameter name {name!r}. {FORMAT_HINT}")
        if name in args:
            raise ActionParseError(f"Parameter {name!r} is given twice; give each parameter once.")
        value = text[param.end() : close]
        if name in BLOCK_PARAMS:
            value = value.removeprefix("\n").removesuffix("\n")
        args[name] = value
        pos = close + len(_PARAM_CLOSE)
    return _XmlCall(Action(tool=tool, args=coerce_args(tool, args)), match.start(), pos)


def _skip_stray_text(text: str, pos: int) -> int:
    """Lenient mode: jump over text between parameters to the next tag (or the end)."""
    candidates = [i for i in (text.find("<parameter=", pos), text.find(_FUNCTION_CLOSE, pos)) if i >= 0]
    return min(candidates) if candidates else len(text)


def parse_action(text: str) -> Action:
    """Parse text that is exactly one XML function call (surrounding whitespace allowed)."""
    stripped = text.strip()
    match = _FUNCTION_OPEN.match(stripped)
    if match is None:
        raise ActionParseError(f"The text does not start with <function=NAME>. {FORMAT_HINT}")
    call = _parse_xml_at(stripped, match, strict=True)
    if stripped[call.end :].strip():
        raise ActionParseError("Unexpected text after </function>; give exactly one function call.")
    return call.action


def _xml_calls(text: str, *, strict: bool) -> list[_XmlCall]:
    """Every XML call in ``text``, read left to right (a call's values may hold '<function=')."""
    calls: list[_XmlCall] = []
    pos = 0
    while (match := _FUNCTION_OPEN.search(text, pos)) is not None:
        call = _parse_xml_at(text, match, strict=strict)
        calls.append(call)
        pos = max(call.end, match.end())
    return calls


def _bash_calls(text: str) -> list[tuple[int, Action]]:
    return [
        (m.start(), Action(tool="bash", args={"command": m.group(1).strip()}))
        for m in _BASH_FENCE.finditer(text)
    ]


# ---------------------------------------------------------------------------------------------
# Completions


def _split_think(text: str) -> tuple[str | None, str]:
    """(monologue inside <think> or None, the text where the action is looked for)."""
    open_ = text.find(_THINK_OPEN)
    call = _FUNCTION_OPEN.search(text)
    if call is not None and not 0 <= open_ < call.start():
        open_ = -1  # tags inside the call's values are not a monologue
    close = text.find(_THINK_CLOSE, max(open_, 0))
    if open_ < 0 and call is not None and close > call.start():
        close = -1
    if close >= 0:
        start = open_ + len(_THINK_OPEN) if 0 <= open_ < close else 0  # no <think>: the prompt opened it
        return text[start:close].strip(), text[close + len(_THINK_CLOSE) :]
    if open_ >= 0:
        return None, text[open_ + len(_THINK_OPEN) :]
    return None, text


def _one(found: list, kind: str) -> None:
    if len(found) > 1:
        raise ActionParseError(
            f"Found {len(found)} {kind} in your reply; give exactly one action per reply. {FORMAT_HINT}"
        )


def parse_completion(text: str) -> ParsedCompletion:
    """Leniently read one action (XML call, JSON tool call or bash fence) and its thought from a reply."""
    if not isinstance(text, str):
        raise ActionParseError("The reply is not text.")
    thought, body = _split_think(text)
    xml = _xml_calls(body, strict=False)
    if xml:
        _one(xml, "function calls")
        prefix = body[: xml[0].start]
        return ParsedCompletion(_thought(thought, prefix), _unalias(xml[0].action), "xml")
    for calls, kind, name in (
        (json_tool_calls(body), "json", "tool calls"),
        (_bash_calls(body), "bash", "bash code blocks"),
    ):
        if calls:
            _one(calls, name)
            at, action = calls[0]
            return ParsedCompletion(_thought(thought, body[:at]), _unalias(action), kind)
    raise ActionParseError(f"No action found. {FORMAT_HINT}")


def _unalias(action: Action) -> Action:
    tool = TOOL_ALIASES.get(action.tool)
    return action if tool is None else Action(tool=tool, args=coerce_args(tool, dict(action.args)))


def _thought(think: str | None, prefix: str) -> str:
    if think is not None:
        return think
    # Chat templates such as Qwen's wrap a call in <tool_call> tags; the opening tag is not thought.
    return prefix.replace(_THINK_OPEN, "").strip().removesuffix("<tool_call>").rstrip()


def parse_strict(
    text: str, *, think_opened: bool = False, tools: Mapping[str, ToolSpec] | None = None
) -> ParsedCompletion:
    """The SRL format check: ``<think>...</think>``, one valid XML call, then only whitespace.

    ``think_opened`` says the prompt already ended with ``<think>`` (chat templates that open the
    monologue for the model), so the completion starts inside it. ``tools`` are the tools the
    prompt offered (default: bash, str_replace_editor, submit); a call of any other tool is a
    format error.
    """
    if not isinstance(text, str):
        raise FormatError("The completion is not text.")
    if not think_opened:
        if not text.lstrip().startswith(_THINK_OPEN):
            raise FormatError(f"The completion must start with {_THINK_OPEN}.")
        text = text.lstrip()[len(_THINK_OPEN) :]
    close = text.find(_THINK_CLOSE)
    if close < 0:
        raise FormatError(f"The {_THINK_OPEN} block is not closed with {_THINK_CLOSE}.")
    thought, rest = text[:close], text[close + len(_THINK_CLOSE) :]
    if _THINK_OPEN in thought:
        raise FormatError(f"Nested {_THINK_OPEN} inside the monologue.")
    match = _FUNCTION_OPEN.search(rest)
    between = rest[: match.start()] if match else rest
    if _THINK_OPEN in between or _THINK_CLOSE in between:  # values inside the call may hold the tags
        raise FormatError("More than one <think> block.")
    if match is None:
        raise FormatError(f"No <function=NAME> call after {_THINK_CLOSE}.")
    try:
        call = _parse_xml_at(rest, match, strict=True)
    except ActionParseError as err:
        raise err if isinstance(err, FormatError) else FormatError(str(err)) from None
    trailing = rest[call.end :]
    if _FUNCTION_OPEN.search(trailing):
        raise FormatError("More than one function call; exactly one is allowed.")
    if trailing.strip():
        extra = trailing.strip()[:40]
        raise FormatError(f"Text after {_FUNCTION_CLOSE}: {extra!r}; nothing may follow the call.")
    validate_action(call.action, TOOLS if tools is None else tools)
    return ParsedCompletion(thought.strip(), call.action, "xml")
