"""The action parsers and the SRL reward on arbitrary and near-miss model text: typed errors only."""

from __future__ import annotations

import contextlib

import pytest
from fuzzing import EXAMPLE_COUNTS, run_fuzz
from hypothesis import strategies as st

from swe_srl.actions import parse_action, parse_completion, parse_strict, render_action
from swe_srl.records import Action, SweSrlError
from swe_srl.reward import step_reward

# Pieces of every format the parsers know, so generated text gets past their first checks.
TOKENS = [
    "<function=", "bash", "str_replace_editor", "submit", "<function=bash>", "<function=str_replace_editor>",
    ">", "<parameter=", "command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range",
    "<parameter=command>", "<parameter=path>", "</parameter>", "</function>", "<think>", "</think>",
    "view", "create", "str_replace", "insert", "undo_edit", "/testbed/x.py", "[1, 2]", "[-1", "3", "-1",
    "```bash\n", "```json\n", "```", "<tool_call>", "</tool_call>", '{"name": "bash", "arguments": ',
    '{"command": "ls"}}', '{"name":', '"arguments":', '"', "{", "}", "[", "]", ",", ":", "null", "\\",
    "\n", " ", "\t", "\r", "\x00", "\ud7ff", "\U0001f600", "<", "</", "=",
]  # fmt: skip
NEAR_MISS = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), max_size=40).map("".join)
EXPERT = render_action(Action("bash", {"command": "grep -rn 'def add' /testbed"}))
_VIEW = {"command": "view", "path": "/testbed/a.py", "view_range": [1, 9]}
_REPLACE = {"command": "str_replace", "path": "/testbed/a.py", "old_str": "a\n", "new_str": "b\n"}
VALID = [
    EXPERT,
    render_action(Action("str_replace_editor", _VIEW)),
    render_action(Action("str_replace_editor", _REPLACE)),
    render_action(Action("submit", {})),
]


@st.composite
def edited_valid(draw) -> str:
    """A valid call with a few characters inserted, deleted or replaced, inside a think block."""
    text = "<think>\nplan\n</think>\n" + draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)))
        cut = draw(st.integers(0, 5))
        text = text[:at] + piece + text[at + cut :]
    return text


MODEL_TEXT = st.one_of(st.text(max_size=300), NEAR_MISS, edited_valid())


def _check(text: str) -> None:
    for parse in (parse_action, parse_completion, parse_strict):
        with contextlib.suppress(SweSrlError):
            parse(text)
    reward = step_reward(text, EXPERT)
    assert reward == -1.0 or 0.0 <= reward <= 1.0, reward
    assert -1.0 <= step_reward(text, EXPERT, think_opened=True) <= 1.0


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_parsers_and_reward(examples):
    run_fuzz(MODEL_TEXT, _check, examples)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_fuzz_parse_action_round_trip(examples):
    """Whatever parse_action accepts renders to text that parses back to the same action."""

    def check(text: str) -> None:
        action = parse_action(text)
        rendered = render_action(action)
        if all("</parameter>" not in str(v) for v in action.args.values()):
            assert parse_action(rendered) == action

    run_fuzz(
        st.one_of(NEAR_MISS, edited_valid().map(lambda t: t.split("</think>\n", 1)[-1])), check, examples
    )


def test_broken_parameter_tag_does_not_hang():
    """Found by this fuzzer: a "<parameter=" whose tag never closes on its line looped forever."""
    text = (
        "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n"
        "<parameter=old_s:\n\n</parameter>\n<parameter=path>/testbed/a.py</parameter>\n</function>"
    )
    parsed = parse_completion(text)
    assert parsed.action.args == {"command": "str_replace", "path": "/testbed/a.py"}
