"""Pre-1.0 SWE-agent commands: exact translations, faithful legacy calls, per-instance format check."""

from __future__ import annotations

from pathlib import Path

from swe_srl.actions import render_action
from swe_srl.context import render_reply
from swe_srl.records import Action, Step
from swe_srl.reward import FORMAT_PENALTY, make_srl_reward, step_reward
from swe_srl.tools.legacy import (
    LEGACY_TOOLS,
    decode_tools,
    encode_tools,
    parse_legacy_command,
    specs_from_docs,
)
from swe_srl.tools.schema import TOOLS
from swe_srl.trajectories.importers import import_paths
from swe_srl.trajectories.importers.legacy_translate import translate
from swe_srl.trajectories.importers.sweagent_commands import parse_command_line
from swe_srl.trajectories.steps import step_instances

PYDICOM = Path(__file__).parent / "fixtures" / "sweagent-0.x" / "pydicom__pydicom-1458.traj"
EDIT = Action("edit", {"start_line": 3, "end_line": 4, "replacement_text": "    return x\n"})


def test_edit_is_parsed_faithfully_and_never_guessed():
    line = "edit 3:4\n    return x\n\nend_of_edit\n"
    assert parse_legacy_command(line) == Action(
        "edit", {"start_line": 3, "end_line": 4, "replacement_text": "    return x\n"}
    )
    unterminated = "edit 3:4\n    return x\n"
    assert parse_legacy_command(unterminated) is None
    # What SWE-agent 0.x ran (a shell function) is what stays: the whole line as bash.
    assert parse_command_line(unterminated) == Action("bash", {"command": unterminated.strip()})
    assert parse_command_line("open") == Action("bash", {"command": "open"})  # missing argument
    assert parse_command_line("goto 12") == Action("goto", {"line_number": 12})
    assert parse_command_line('search_file "def f" src/a.py') == Action(
        "search_file", {"search_term": "def f", "file": "src/a.py"}
    )


def test_specs_come_from_the_trajectorys_own_docs():
    docs = PYDICOM.read_text()
    import json

    system = json.loads(docs)["history"][0]["content"]
    specs = specs_from_docs(system)
    assert set(specs) == {
        "open",
        "goto",
        "scroll_down",
        "scroll_up",
        "create",
        "search_dir",
        "search_file",
    } | {
        "find_file",
        "edit",
    }
    assert specs["edit"].param_names == ("start_line", "end_line", "replacement_text")
    assert (
        specs["open"].param("line_number").kind == "integer"
        and not specs["open"].param("line_number").required
    )


def test_window_translates_to_a_view_only_when_it_is_just_a_window():
    window = (
        "[File: /repo/a.py (40 lines total)]\n(9 more lines above)\n10:def f():\n11:\treturn 1\n"
        "(29 more lines below)"
    )
    translation = translate(Action("goto", {"line_number": 10}), window)
    assert translation.action == Action(
        "str_replace_editor", {"command": "view", "path": "/repo/a.py", "view_range": [10, 11]}
    )
    assert translation.observation == (
        "Here's the result of running `cat -n` on /repo/a.py:\n    10\tdef f():\n    11\t        return 1"
    )
    relative = window.replace("/repo/a.py", "a.py")
    assert translate(Action("open", {"path": "a.py"}), relative) is None  # no working directory known
    assert translate(Action("open", {"path": "a.py"}), relative, "/repo").action.args["path"] == "/repo/a.py"
    linted = window + "\nFile updated. Please review the changes."
    assert translate(Action("goto", {"line_number": 10}), linted) is None
    assert translate(Action("open", {"path": "b.py"}), "File b.py not found") is None


def test_searches_translate_to_the_pipelines_their_scripts_ran():
    found = (
        'Found 3 matches for "total" in /repo/src:\n/repo/src/a.py (2 matches)\n/repo/src/b.py (1 matches)\n'
        'End of matches for "total" in /repo/src'
    )
    search = translate(Action("search_dir", {"search_term": "total"}), found)
    assert search.action.args["command"].startswith(
        "find /repo/src -type f ! -path '*/.*' -exec grep -nIH -- total"
    )
    assert search.observation == "      2 /repo/src/a.py\n      1 /repo/src/b.py"
    none = translate(Action("find_file", {"file_name": "x.py"}), 'No matches found for "x.py" in /repo')
    assert none.action == Action("bash", {"command": "find /repo -type f -name x.py"})
    assert none.observation == "Your command ran successfully and did not produce any output."
    lines = 'Found 1 matches for "def f" in /repo/a.py:\nLine 10:def f():\n'
    lines += 'End of matches for "def f" in /repo/a.py'
    in_file = translate(Action("search_file", {"search_term": "def f"}), lines)
    assert in_file.action == Action("bash", {"command": "grep -n -- 'def f' /repo/a.py"})
    assert in_file.observation == "10:def f():"
    too_many = 'More than 120 files matched for "e" in /repo. Please narrow your search.'
    assert translate(Action("search_dir", {"search_term": "e"}), too_many) is None


def test_every_step_of_a_real_legacy_trajectory_is_learnable():
    """The expert's own reply scores exactly 1.0 under the reward with the instance's tools."""
    traj = next(import_paths([PYDICOM]))
    instances = list(step_instances(traj))
    assert len(instances) == len(traj.steps) == 12
    for instance in instances:
        reply = render_reply(instance.thought, instance.target)
        assert step_reward(reply, instance.target, tools=instance.tool_specs) == 1.0
        assert f"- {instance.tool}:" in instance.prompt[0]["content"]
    edits = [i for i in instances if i.tool == "edit"]
    assert edits and "repository at /pydicom__pydicom" in edits[0].prompt[0]["content"]
    assert decode_tools(edits[0].tool_specs)["edit"].param_names == (
        "start_line",
        "end_line",
        "replacement_text",
    )


def test_legacy_tool_not_offered_is_a_format_error():
    """A student cannot score with a legacy tool its instance's prompt did not offer."""
    target = render_action(EDIT)
    reply = render_reply("edit it", EDIT)
    offered = encode_tools([*TOOLS.values(), LEGACY_TOOLS["edit"]])
    assert step_reward(reply, target, tools=offered) == 1.0
    assert step_reward(reply, target) == FORMAT_PENALTY
    assert (
        step_reward(reply, target, tools=encode_tools([*TOOLS.values(), LEGACY_TOOLS["goto"]]))
        == FORMAT_PENALTY
    )
    scroll = render_reply("scroll", Action("scroll_down"))
    assert step_reward(scroll, target, tools=offered) == FORMAT_PENALTY


def test_trl_reward_reads_the_tool_specs_column():
    reward = make_srl_reward(processes=1)
    target = render_action(EDIT)
    offered = encode_tools([*TOOLS.values(), LEGACY_TOOLS["edit"]])
    completions = [render_reply("a", EDIT), render_reply("b", EDIT)]
    assert reward(completions, [target, target], tool_specs=[offered, ""]) == [1.0, FORMAT_PENALTY]
    assert encode_tools(TOOLS.values()) == "" and decode_tools("") == TOOLS


def test_step_with_nothing_printed_reads_the_no_output_sentence():
    bash = Action("bash", {"command": "true"})
    assert Step("", bash, "").observation == ""  # records keep what they are given...
    traj = next(import_paths([PYDICOM]))
    assert all(step.observation for step in traj.steps)  # ...importers give the canonical form
