"""The context builder and the reply format: one home for every prompt and reply swe-srl writes."""

from __future__ import annotations

from swe_srl.actions import parse_completion, parse_strict, render_action
from swe_srl.context import (
    ContextConfig,
    build_messages,
    observation_message,
    render_reply,
    system_prompt,
    task_message,
    truncate_observation,
)
from swe_srl.records import Action, Step
from swe_srl.reward import step_reward
from swe_srl.tools.observation import NO_OUTPUT
from swe_srl.tools.schema import TOOLS

VIEW = Action("str_replace_editor", {"command": "view", "path": "/testbed/a.py", "view_range": [1, 5]})


def _step(observation: str, action: Action = VIEW) -> Step:
    return Step(thought="look", action=action, observation=observation)


def test_system_prompt_describes_tools_and_format():
    text = system_prompt()
    for spec in TOOLS.values():
        assert f"- {spec.name}:" in text
        for name in spec.param_names:
            assert f"    {name} (" in text
    assert "<think>" in text and "</think>" in text
    example = text[text.index("EXAMPLE REPLY:") :]
    assert parse_completion(example.split("\n", 1)[1]).action == Action("bash", {"command": "ls /testbed"})


def test_system_prompt_lists_only_the_given_tools_and_the_workdir():
    text = system_prompt([TOOLS["bash"], TOOLS["submit"]], workdir="/repo")
    assert "- bash:" in text and "- submit:" in text and "str_replace_editor" not in text
    assert "repository at /repo" in text and "ls /repo" in text and "/testbed" not in text


def test_long_observations_are_truncated_with_a_marker():
    text = "HEAD" + "x" * 10_000 + "TAIL"
    cut = truncate_observation(text, 100)
    assert cut.startswith("HEAD") and cut.endswith("TAIL")
    assert "[... 9908 characters truncated ...]" in cut
    assert len(cut) < 160
    assert truncate_observation("short", 100) == "short"
    assert truncate_observation(text, None) == text
    prompt = build_messages("issue", [_step(text)], ContextConfig(observation_budget=100))
    assert prompt[-1]["content"] == "OBSERVATION:\n" + cut


def test_no_output_sentence_is_shown_bare_like_swe_agent():
    """SWE-smith's transcripts show the no-output sentence without the OBSERVATION header."""
    assert observation_message(NO_OUTPUT) == NO_OUTPUT
    assert observation_message("ok") == "OBSERVATION:\nok"
    prompt = build_messages("issue", [_step(NO_OUTPUT, Action("bash", {"command": "true"}))])
    assert prompt[-1] == {"role": "user", "content": NO_OUTPUT}


def test_window_counts_or_lists_the_earlier_rounds():
    steps = [_step(f"out {i}", Action("bash", {"command": f"echo {i}"})) for i in range(4)]
    counted = build_messages("the issue", steps)
    assert [m["role"] for m in counted] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert counted[1]["content"] == task_message("the issue", steps[:2])
    assert counted[1]["content"].endswith("[2 earlier actions not shown]")
    assert counted[2]["content"] == render_action(steps[2].action)
    listed = build_messages("the issue", steps, ContextConfig(window=1, list_earlier=True))
    assert listed[1]["content"].endswith('3. bash(command="echo 2")')
    everything = build_messages("the issue", steps, ContextConfig(window=None))
    assert len(everything) == 2 + 2 * 4 and "earlier" not in everything[1]["content"]


def test_reply_format_is_what_the_reward_accepts():
    reply = render_reply("The bug is in a.py.", VIEW)
    assert reply == f"<think>The bug is in a.py.</think>\n{render_action(VIEW)}"
    assert render_reply("x", render_action(VIEW)) == render_reply("x", VIEW)
    parsed = parse_strict(reply)
    assert (parsed.thought, parsed.action) == ("The bug is in a.py.", VIEW)
    assert step_reward(reply, render_action(VIEW)) == 1.0
