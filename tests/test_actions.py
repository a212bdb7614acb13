"""The canonical action text, its parser, the lenient agent-loop parser and the strict SRL check."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swe_srl.actions import (
    ActionParseError,
    FormatError,
    action_from_tool_call,
    parse_action,
    parse_completion,
    parse_strict,
    render_action,
    validate_action,
)
from swe_srl.records import Action
from swe_srl.tools.legacy import known_spec
from swe_srl.tools.schema import TOOLS

VIEW = Action("str_replace_editor", {"command": "view", "path": "/testbed/x.py"})
VIEW_TEXT = (
    "<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
    "<parameter=path>/testbed/x.py</parameter>\n</function>"
)


# --------------------------------------------------------------------------------------------
# render_action


def test_render_matches_swe_smith_format_exactly():
    assert render_action(VIEW) == VIEW_TEXT


def test_render_follows_spec_order_not_insertion_order():
    action = Action("str_replace_editor", {"view_range": [1, 10], "path": "/testbed/x.py", "command": "view"})
    assert render_action(action) == (
        "<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
        "<parameter=path>/testbed/x.py</parameter>\n<parameter=view_range>[1, 10]</parameter>\n</function>"
    )


def test_render_block_params_on_their_own_lines_like_swe_smith():
    action = Action(
        "str_replace_editor",
        {"command": "str_replace", "path": "/testbed/a.py", "old_str": "x = 1", "new_str": "x = 2"},
    )
    text = render_action(action)
    assert "<parameter=old_str>\nx = 1\n</parameter>\n<parameter=new_str>\nx = 2\n</parameter>" in text
    assert parse_action(text) == action


def test_render_integers_and_no_trailing_newline():
    action = Action(
        "str_replace_editor", {"command": "insert", "path": "/testbed/a", "insert_line": 3, "new_str": ""}
    )
    text = render_action(action)
    assert "<parameter=insert_line>3</parameter>" in text
    assert text.endswith("</function>")
    assert render_action(Action("submit")) == "<function=submit>\n</function>"


def test_render_unknown_tool_keeps_insertion_order():
    action = Action("open", {"path": "/testbed/b.py", "line_number": "40"})
    assert render_action(action) == (
        "<function=open>\n<parameter=path>/testbed/b.py</parameter>\n<parameter=line_number>40</parameter>\n</function>"
    )


def test_value_containing_parameter_close_is_the_unrepresentable_case():
    action = Action("bash", {"command": "echo '</parameter>'"})
    text = render_action(action)  # rendering is still deterministic ...
    assert text == render_action(action)
    with pytest.raises(ActionParseError):  # ... but the value ends at its first </parameter>
        parse_action(text)


# --------------------------------------------------------------------------------------------
# Round trip property

_NO_CLOSE = st.text(max_size=60).filter(lambda s: "</parameter>" not in s)
_INTS = st.integers(min_value=-(10**6), max_value=10**6)


@st.composite
def schema_valid_actions(draw) -> Action:
    spec = draw(st.sampled_from(list(TOOLS.values())))
    args = {}
    for param in spec.params:
        if not param.required and not draw(st.booleans()):
            continue
        if param.enum:
            args[param.name] = draw(st.sampled_from(param.enum))
        elif param.kind == "integer":
            args[param.name] = draw(_INTS)
        elif param.kind == "array":
            args[param.name] = draw(st.lists(_INTS, max_size=3))
        else:
            args[param.name] = draw(_NO_CLOSE)
    keys = draw(st.permutations(list(args)))
    return Action(spec.name, {key: args[key] for key in keys})


_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@st.composite
def unknown_tool_actions(draw) -> Action:
    tool = draw(_IDENT.filter(lambda name: name not in TOOLS))
    args = draw(st.dictionaries(_IDENT, _NO_CLOSE, max_size=4))
    return Action(tool, args)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(schema_valid_actions())
def test_round_trip_schema_valid(action):
    validate_action(action)
    text = render_action(action)
    assert parse_action(text) == action
    assert render_action(parse_action(text)) == text
    assert parse_strict(f"<think>t</think>\n{text}").action == action


@settings(max_examples=150)
@given(schema_valid_actions(), st.sampled_from(["", "Thought.\n", "<think>\nhm\n</think>\n"]))
def test_lenient_parser_reads_canonical_text(action, prefix):
    assert parse_completion(prefix + render_action(action)).action == action


@settings(max_examples=150)
@given(unknown_tool_actions())
def test_round_trip_unknown_tools_with_string_args(action):
    assert parse_action(render_action(action)) == action


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_fuzz_parsers_raise_only_action_parse_error(text):
    for parser in (parse_completion, parse_strict, parse_action):
        with contextlib.suppress(ActionParseError):
            parser(text)


@settings(max_examples=200)
@given(
    st.lists(
        st.sampled_from(
            [
                "<function=bash>",
                "<parameter=command>",
                "</parameter>",
                "</function>",
                "<think>",
                "</think>",
                "```bash\n",
                "```",
                '{"name": ',
                "<tool_call>",
                '"bash"',
                "ls",
                "\n",
                " ",
                "{",
                "}",
                "[",
                "]",
                ",",
            ]
        ),
        max_size=20,
    )
)
def test_fuzz_parsers_on_format_fragments(parts):
    text = "".join(parts)
    for parser in (parse_completion, parse_strict, parse_action):
        with contextlib.suppress(ActionParseError):
            parser(text)


# --------------------------------------------------------------------------------------------
# parse_completion (lenient)


def test_completion_xml_thought_is_text_before_call():
    parsed = parse_completion(f"Let me look at the file.\n\n{VIEW_TEXT}\n")
    assert parsed == parsed.__class__("Let me look at the file.", VIEW, "xml")


def test_completion_think_block_is_the_thought():
    parsed = parse_completion(f"<think>\nThe bug is in x.\n</think>\nSome words.\n{VIEW_TEXT}")
    assert parsed.thought == "The bug is in x."
    assert parsed.action == VIEW


def test_completion_think_opened_by_prompt():
    parsed = parse_completion(f"reasoning here</think>\n{VIEW_TEXT}")
    assert parsed.thought == "reasoning here"


def test_completion_call_mentioned_inside_think_is_ignored():
    text = f"<think>maybe <function=submit>\n</function>? no.</think>\n{VIEW_TEXT}"
    assert parse_completion(text).action == VIEW


def test_completion_xml_inside_tool_call_tags():
    parsed = parse_completion(f"Look first.\n<tool_call>\n{VIEW_TEXT}\n</tool_call>")
    assert parsed.thought == "Look first."
    assert parsed.action == VIEW


def test_completion_xml_missing_function_close_is_tolerated():
    parsed = parse_completion("ok\n<function=bash>\n<parameter=command>ls -la</parameter>\n")
    assert parsed.action == Action("bash", {"command": "ls -la"})


def test_completion_xml_strips_swe_smith_block_newlines_but_not_for_other_params():
    text = (
        "<function=str_replace_editor>\n<parameter=command>create</parameter>\n"
        "<parameter=path>/testbed/r.py</parameter>\n<parameter=file_text>\nprint(1)\n</parameter>\n</function>"
    )
    assert parse_completion(text).action.args["file_text"] == "print(1)"
    bash = parse_completion("<function=bash>\n<parameter=command>\nls\n</parameter>\n</function>")
    assert bash.action.args["command"] == "\nls\n"


@pytest.mark.parametrize(
    "text",
    [
        'I will list.\n<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>',
        'I will list.\n```json\n{"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}\n```',
        'I will list. {"function": {"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}}',
        'I will list.\n{"type": "function", "function": {"name": "execute_bash", '
        '"arguments": {"command": "ls"}}}',
    ],
)
def test_completion_json_tool_calls(text):
    parsed = parse_completion(text)
    assert parsed.action == Action("bash", {"command": "ls"})
    assert parsed.format == "json"
    assert parsed.thought == "I will list."


def test_completion_json_converts_schema_types():
    args = {"command": "view", "path": "/testbed/a", "view_range": "[3, -1]"}
    parsed = parse_completion(json.dumps({"name": "str_replace_editor", "arguments": args}))
    assert parsed.action.args["view_range"] == [3, -1]


def test_completion_bash_fence_mini_swe_agent_style():
    parsed = parse_completion("THOUGHT: list files.\n\n```bash\nls -la /testbed\n```\n")
    assert parsed == parsed.__class__(
        "THOUGHT: list files.", Action("bash", {"command": "ls -la /testbed"}), "bash"
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("I am done thinking.", "No action found"),
        ("", "No action found"),
        (f"{VIEW_TEXT}\n{VIEW_TEXT}", "Found 2 function calls"),
        ("```bash\nls\n```\n```bash\npwd\n```", "Found 2 bash code blocks"),
        ('<tool_call>{"name": "bash", "arguments": "{bad"}</tool_call>', "not valid JSON"),
        ('{"name": "bash", "arguments": {"command": 1.5}}', "must be a string"),
        ("<function=bash>\n<parameter=command>ls\n</function>", "not closed with </parameter>"),
        (
            "<function=bash>\n<parameter=command>a</parameter><parameter=command>b</parameter></function>",
            "twice",
        ),
    ],
)
def test_completion_errors_are_messages_for_the_model(text, needle):
    with pytest.raises(ActionParseError, match=needle) as info:
        parse_completion(text)
    assert not isinstance(info.value, FormatError) or needle


def test_no_action_message_shows_the_format():
    with pytest.raises(ActionParseError) as info:
        parse_completion("hmm")
    assert "<function=bash>" in str(info.value)


# --------------------------------------------------------------------------------------------
# parse_strict: one test per violation


def test_strict_accepts_think_then_call():
    parsed = parse_strict(f"<think>\nlook at x\n</think>\n\n{VIEW_TEXT}\n\n")
    assert parsed.thought == "look at x"
    assert parsed.action == VIEW


def test_strict_think_opened_by_prompt():
    assert parse_strict(f"look</think>\n{VIEW_TEXT}", think_opened=True).thought == "look"


def _strict_error(text: str) -> str:
    with pytest.raises(FormatError) as info:
        parse_strict(text)
    return str(info.value)


def _call(tool: str, **args) -> str:
    return render_action(Action(tool, args))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (VIEW_TEXT, "must start with <think>"),
        (f"preamble <think>x</think>{VIEW_TEXT}", "must start with <think>"),
        (f"<think>x {VIEW_TEXT}", "not closed"),
        (f"<think>a<think>b</think>{VIEW_TEXT}", "Nested"),
        (f"<think>a</think><think>b</think>{VIEW_TEXT}", "More than one <think>"),
        ("<think>a</think>\nI will run ls.", "No <function=NAME>"),
        ("<think>a</think>\n```bash\nls\n```", "No <function=NAME>"),
        ('<think>a</think>\n{"name": "bash", "arguments": {"command": "ls"}}', "No <function=NAME>"),
        (f"<think>a</think>\n{VIEW_TEXT}\n{VIEW_TEXT}", "More than one function call"),
        (f"<think>a</think>\n{VIEW_TEXT}\nDone.", "Text after </function>"),
        (
            "<think>a</think>\n<function=bash>\n<parameter=command>ls</parameter>\n",
            "not closed with </function>",
        ),
        ("<think>a</think>\n<function=bash>\nls\n</function>", "Unexpected text"),
        (f"<think>a</think>\n{_call('grep', pattern='x')}", "Unknown tool 'grep'"),
        (f"<think>a</think>\n{_call('str_replace_editor', command='view')}", "requires the parameter 'path'"),
        (f"<think>a</think>\n{_call('bash', command='ls', cwd='/')}", "has no parameter 'cwd'"),
        (
            f"<think>a</think>\n{_call('str_replace_editor', command='delete', path='/testbed/a')}",
            "must be one of",
        ),
        (
            "<think>a</think>\n"
            + _call("str_replace_editor", command="insert", path="/a", insert_line="x", new_str=""),
            "must be an integer",
        ),
        (
            f"<think>a</think>\n{_call('str_replace_editor', command='view', path='/a', view_range='1-5')}",
            "JSON list of integers",
        ),
        (
            "<think>a</think>\n<function=bash>\n<parameter=command>ls</function>",
            "not closed with </parameter>",
        ),
        ("<think>a</think>\n<function=ba sh>\n</function>", "Invalid tool name"),
    ],
)
def test_strict_violations(text, needle):
    assert needle in _strict_error(text)


def test_strict_error_is_action_parse_error():
    assert issubclass(FormatError, ActionParseError)


# --------------------------------------------------------------------------------------------
# Real expert trajectories


def _history_tool_calls(path: Path) -> list[tuple[str, str]]:
    data = json.loads(path.read_text())
    calls = []
    for message in data["history"]:
        for call in message.get("tool_calls") or []:
            calls.append((call["function"]["name"], call["function"]["arguments"]))
    return calls


@pytest.mark.parametrize("name", ["swesmith_pandas_53856.traj", "sweagent_marshmallow_fc_replace.traj"])
def test_fixture_tool_calls_round_trip(fixtures_dir, name):
    calls = _history_tool_calls(fixtures_dir / name)
    assert len(calls) >= 5
    for tool, arguments in calls:
        action = action_from_tool_call(tool, arguments)
        text = render_action(action)
        parsed = parse_action(text)
        # Standard and legacy tools have specs that type their arguments; others read back as text
        # (this fixture's `edit` is SWE-agent 1.x's search/replace, not the 0.x spec of that name).
        spec = known_spec(tool)
        typed = spec is not None and set(action.args) <= set(spec.param_names)
        expected = action if typed else Action(tool, {k: str(v) for k, v in action.args.items()})
        assert parsed == expected
        assert render_action(parsed) == text
        assert parse_completion(f"thinking\n{text}").action == parsed
        if tool in TOOLS:
            validate_action(action)
            assert parse_strict(f"<think>x</think>\n{text}").action == action
        elif typed:  # accepted only when the instance offers it
            offered = {**TOOLS, tool: spec}
            assert parse_strict(f"<think>x</think>\n{text}", tools=offered).action == action
            with pytest.raises(FormatError, match="Unknown tool"):
                parse_strict(f"<think>x</think>\n{text}")


def test_fixture_swesmith_view_range_is_integers(fixtures_dir):
    calls = _history_tool_calls(fixtures_dir / "swesmith_pandas_53856.traj")
    ranges = [action_from_tool_call(t, a).args.get("view_range") for t, a in calls]
    ranges = [r for r in ranges if r is not None]
    assert ranges and all(isinstance(r, list) and all(isinstance(i, int) for i in r) for r in ranges)


def test_fixture_mini_swe_agent_replies_parse_as_bash(fixtures_dir):
    messages = json.loads((fixtures_dir / "mini_github_issue.traj.json").read_text())
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    assert len(replies) >= 5
    for reply in replies:
        parsed = parse_completion(reply)
        assert parsed.format == "bash"
        assert parsed.action.tool == "bash" and parsed.action.args["command"]
        assert parsed.thought and "```" not in parsed.thought
    assert parse_completion(replies[1]).action == Action("bash", {"command": "ls -la"})
