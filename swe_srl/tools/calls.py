"""Tool calls checked against the tool schema, and OpenAI-style JSON tool calls read from text.

``validate_action`` is the one schema check (known tool, required and known parameters, types, enum
values) shared by the SRL format check and the executor; ``coerce_args`` turns argument text into
the schema's integer/array types. Pure: no IO.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from swe_srl.records import Action, ArgValue, SweSrlError
from swe_srl.tools.legacy import known_spec
from swe_srl.tools.schema import TOOLS, ToolSpec

TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_JSON_FENCE = re.compile(r"```(?:json)?[ \t]*\n(\s*[\[{].*?)```", re.DOTALL)
_TOOL_CALL_TAG = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_JSON_START = re.compile(r'\{\s*"(?:name|function|type)"\s*:')
_MAX_JSON_FAILURES = 32  # bare JSON objects tried that fail to decode, before giving up on the reply


class ActionParseError(SweSrlError):
    """Model text holds no usable action; the message is written for the model to read."""


class FormatError(ActionParseError):
    """A completion breaks the strict SRL output format; the message names the violation."""


# ---------------------------------------------------------------------------------------------
# Argument types


def _coerce_value(spec: ToolSpec | None, name: str, value: ArgValue) -> ArgValue:
    """Convert a value to the type the tool's schema declares; leave it unchanged when it cannot."""
    param = spec.param(name) if spec else None
    if param is None or not isinstance(value, str):
        return value
    text = value.strip()
    if param.kind == "integer" and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if param.kind == "array":
        try:
            parsed = json.loads(text)
        except ValueError:
            return value
        if isinstance(parsed, list) and all(type(item) is int for item in parsed):
            return parsed
    return value


def coerce_args(tool: str, args: dict[str, ArgValue]) -> dict[str, ArgValue]:
    """``args`` with integer/array parameters of a known tool converted from text where possible."""
    spec = known_spec(tool)
    return {name: _coerce_value(spec, name, value) for name, value in args.items()}


def validate_action(action: Action, tools: Mapping[str, ToolSpec] = TOOLS) -> None:
    """Check ``action`` against its tool's schema; raise ``FormatError`` naming the first violation.

    ``tools`` are the tools the agent was offered (default: bash, str_replace_editor, submit); a
    step instance imported from another harness offers its own (``swe_srl.tools.legacy``).
    """
    spec = tools.get(action.tool)
    if spec is None:
        raise FormatError(f"Unknown tool {action.tool!r}; the tools are: {', '.join(tools)}.")
    for name in spec.required:
        if name not in action.args:
            raise FormatError(f"Tool {spec.name!r} requires the parameter {name!r}.")
    for name, value in action.args.items():
        param = spec.param(name)
        if param is None:
            allowed = ", ".join(spec.param_names) or "none"
            raise FormatError(f"Tool {spec.name!r} has no parameter {name!r} (parameters: {allowed}).")
        if param.kind == "string" and not isinstance(value, str):
            raise FormatError(f"Parameter {name!r} of {spec.name!r} must be a string.")
        if param.kind == "integer" and type(value) is not int:
            raise FormatError(f"Parameter {name!r} of {spec.name!r} must be an integer, got {value!r}.")
        if param.kind == "array" and not (
            isinstance(value, list) and all(type(item) is int for item in value)
        ):
            raise FormatError(
                f"Parameter {name!r} of {spec.name!r} must be a JSON list of integers "
                f"such as [1, 10], got {value!r}."
            )
        if param.enum and value not in param.enum:
            raise FormatError(
                f"Parameter {name!r} of {spec.name!r} must be one of {', '.join(param.enum)}; got {value!r}."
            )


# ---------------------------------------------------------------------------------------------
# JSON tool calls (OpenAI style) and bash fences


def action_from_tool_call(name: object, arguments: object) -> Action:
    """An action from an OpenAI-style tool call: ``arguments`` is a dict or a JSON object string."""
    if not isinstance(name, str) or not TOOL_NAME.match(name.strip()):
        raise ActionParseError(f"The tool call's 'name' must be a tool name, got {name!r}.")
    tool = name.strip()
    if arguments is None or arguments == "":
        arguments = {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as err:
            message = f"The 'arguments' of the {tool!r} call are not valid JSON: {err}."
            raise ActionParseError(message) from None
    if not isinstance(arguments, dict):
        raise ActionParseError(f"The 'arguments' of the {tool!r} call must be a JSON object.")
    args: dict[str, ArgValue] = {}
    for key, value in arguments.items():
        if value is None:
            continue  # an explicit null means the optional argument is absent
        if isinstance(value, bool) or not isinstance(value, (str, int, list)):
            kinds = "a string, an integer or a list of integers"
            raise ActionParseError(f"Argument {key!r} of {tool!r} must be {kinds}.")
        if isinstance(value, list) and not all(type(item) is int for item in value):
            raise ActionParseError(f"Argument {key!r} of {tool!r} must be a list of integers.")
        args[str(key)] = value
    return Action(tool=tool, args=coerce_args(tool, args))


def _tool_call_objects(payload: object) -> list[dict]:
    """The tool-call objects in decoded JSON: a call, ``{"function": call}``, or a list of them."""
    items = payload if isinstance(payload, list) else [payload]
    calls = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("function"), dict):
            item = item["function"]
        if isinstance(item, dict) and "name" in item:
            calls.append(item)
    return calls


def _decode_json_calls(chunk: str) -> list[dict]:
    try:
        return _tool_call_objects(json.loads(chunk))
    except (ValueError, RecursionError):  # deeply nested brackets are no tool call either
        return []


def json_tool_calls(text: str) -> list[tuple[int, Action]]:
    """(start, action) of tool calls in <tool_call> tags, else json fences, else bare JSON objects."""
    matches = list(_TOOL_CALL_TAG.finditer(text)) or list(_JSON_FENCE.finditer(text))
    found = [(m.start(), obj) for m in matches for obj in _decode_json_calls(m.group(1))]
    if not matches:
        decoder = json.JSONDecoder()
        pos, failures = 0, 0
        while (match := _JSON_START.search(text, pos)) is not None:
            try:
                payload, end = decoder.raw_decode(text, match.start())
            except (ValueError, RecursionError):
                # A failed decode may scan to the end of the text: past a few, this is no tool call,
                # and trying every candidate would cost the square of the reply's length.
                failures += 1
                if failures >= _MAX_JSON_FAILURES:
                    break
                pos = match.end()
                continue
            found.extend((match.start(), obj) for obj in _tool_call_objects(payload))
            pos = end
    return [
        (at, action_from_tool_call(obj.get("name"), obj.get("arguments", obj.get("parameters"))))
        for at, obj in found
    ]
