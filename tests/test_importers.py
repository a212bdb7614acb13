"""Importers: every real fixture (tests/fixtures) imports losslessly; other formats from realistic samples.

Expected values are read from the raw JSON here, independently of the importers' own code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.records import Action, RecordError, Trajectory
from swe_srl.trajectories.detect import detect_format
from swe_srl.trajectories.importers import ImportReport, import_paths
from swe_srl.trajectories.importers.sweagent_commands import parse_command_line
from swe_srl.trajectories.io import read_trajectory, write_trajectory

PANDAS = "swesmith_pandas_53856.traj"
MARSHMALLOW = "sweagent_marshmallow_fc_replace.traj"
MINI = "mini_github_issue.traj.json"


def _raw(fixtures_dir: Path, name: str):
    return json.loads((fixtures_dir / name).read_text())


def _one(path: Path, **kwargs) -> Trajectory:
    trajectories = list(import_paths([path], **kwargs))
    assert len(trajectories) == 1
    return trajectories[0]


def _expected_tool_call_actions(raw: dict) -> list[Action]:
    """The structured action of each trajectory entry, straight from history[] tool calls."""
    actions = []
    for message in raw["history"]:
        if message["role"] == "assistant" and message.get("tool_calls"):
            function = message["tool_calls"][0]["function"]
            args = {k: v for k, v in json.loads(function["arguments"]).items() if v is not None}
            actions.append(Action(function["name"], args))
    return actions


def _canonical(text: str) -> str:
    """The canonical observation, written out here: \\n line ends, stripped, the no-output sentence."""
    return (
        text.replace("\r\n", "\n").strip() or "Your command ran successfully and did not produce any output."
    )


@pytest.mark.parametrize("name", [PANDAS, MARSHMALLOW])
def test_sweagent_v1_fixture_is_lossless(fixtures_dir, name):
    """Every step is the tool call the expert made, its observation in canonical form; translated
    legacy calls keep their original call and observation in the metadata."""
    raw = _raw(fixtures_dir, name)
    traj = _one(fixtures_dir / name)
    entries = raw["trajectory"]
    assert traj.source_format == "swe-agent"
    assert len(traj.steps) == len(entries)
    translated = traj.metadata.get("translated_steps", {})
    expected = _expected_tool_call_actions(raw)
    for index, (step, entry) in enumerate(zip(traj.steps, entries, strict=True)):
        original = translated.get(str(index))
        if original is None:
            assert step.action == expected[index]
            assert step.observation == _canonical(entry["observation"])
        else:
            assert Action.from_dict(original["action"]) == expected[index]
            assert original["observation"] == _canonical(entry["observation"])
        assert step.thought == entry["thought"]
        assert step.raw_action == entry["action"]
        assert step.duration == entry["execution_time"]
    assert traj.final_patch == raw["info"]["submission"]
    assert traj.metadata["info"]["exit_status"] == raw["info"]["exit_status"]
    assert traj.metadata["info"]["model_stats"] == raw["info"]["model_stats"]


def test_pandas_fixture_identity_and_typed_arguments(fixtures_dir):
    traj = _one(fixtures_dir / PANDAS)
    assert traj.instance_id == "pandas-dev__pandas.95280573.pr_53856"
    assert traj.model == "claude-3-7-sonnet-20250219"
    assert traj.problem_statement.startswith("BUG: to_sql fails with arrow date column")
    ranged = [s.action for s in traj.steps if "view_range" in s.action.args]
    assert ranged and all(isinstance(a.args["view_range"], list) for a in ranged)
    assert ranged[0].args["view_range"] == [1030, 1074]
    assert [s.action.tool for s in traj.steps].count("submit") == 2


def test_editor_command_strings_map_to_the_tool_call_action(fixtures_dir):
    """`str_replace_editor view /testbed/x --view_range 1 2` parses to the tool call's arguments."""
    raw = _raw(fixtures_dir, PANDAS)
    expected = _expected_tool_call_actions(raw)
    parsed = [parse_command_line(entry["action"]) for entry in raw["trajectory"]]
    assert parsed == expected
    assert any(a.tool == "str_replace_editor" and a.args["command"] == "create" for a in parsed)


def test_marshmallow_fixture_translates_exact_legacy_calls_and_keeps_the_rest(fixtures_dir):
    """SWE-agent 1.x with its windowed tools: create/find_file/open become the modern tools with the
    output those print; insert and edit (search/replace) stay tools of their own, documented."""
    raw = _raw(fixtures_dir, MARSHMALLOW)
    traj = _one(fixtures_dir / MARSHMALLOW)
    assert traj.instance_id == "marshmallow-code__marshmallow-1867"
    assert traj.model == "gpt-4o"
    tools = [s.action.tool for s in traj.steps]
    editor, bash = "str_replace_editor", "bash"
    assert tools == [editor, "insert", bash, bash, bash, editor, "edit", "edit", bash, bash, "submit"]
    create, find, view = traj.steps[0], traj.steps[4], traj.steps[5]
    assert create.action.args == {"command": "create", "path": "/testbed/reproduce.py", "file_text": ""}
    assert create.observation == "File created successfully at: /testbed/reproduce.py"
    assert find.action.args == {"command": "find /testbed/src -type f -name fields.py"}
    assert find.observation == "/testbed/src/marshmallow/fields.py"
    window = raw["trajectory"][5]["observation"].replace("\r\n", "\n").split("\n")
    first, last = window[2].split(":")[0], window[-2].split(":")[0]  # around "(N more lines above/below)"
    assert view.action.args == {
        "command": "view",
        "path": "/testbed/src/marshmallow/fields.py",
        "view_range": [int(first), int(last)],
    }
    assert view.observation.startswith(
        "Here's the result of running `cat -n` on /testbed/src/marshmallow/fields.py:\n"
    )
    assert "  1475\t        return int(value.total_seconds()" in view.observation
    assert traj.metadata["translated_steps"]["5"]["action"] == {
        "tool": "open",
        "args": {"path": "src/marshmallow/fields.py", "line_number": 1474},
    }
    extra = {spec["name"]: spec for spec in traj.metadata["extra_tools"]}
    assert set(extra) == {"insert", "edit", "scroll_up", "scroll_down"}  # the documented untranslatables
    assert [p["name"] for p in extra["edit"]["params"]] == ["search", "replace", "replace-all"]
    assert traj.steps[6].action.args["search"].startswith("return int(value.total_seconds()")


def test_mini_fixture_is_lossless(fixtures_dir):
    messages = _raw(fixtures_dir, MINI)
    traj = _one(fixtures_dir / MINI)
    assert detect_format(messages) == "mini-swe-agent"
    block = re.compile(r"```mswea_bash_command\n(.*?)\n```", re.DOTALL)
    assistants = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    assert len(traj.steps) == len(assistants) == 10
    for step, index in zip(traj.steps, assistants, strict=True):
        content = messages[index]["content"]
        assert step.action == Action("bash", {"command": block.search(content).group(1).strip()})
        assert step.thought == content[: content.index("```")].strip()
        assert step.observation == messages[index + 1]["content"].strip()
    assert traj.final_patch == messages[-1]["content"]
    assert traj.problem_statement.startswith("GitHub Issue: SyntaxError: invalid syntax")


@pytest.mark.parametrize("name", [PANDAS, MARSHMALLOW, MINI])
def test_fixture_round_trips_through_our_format(fixtures_dir, tmp_path, name):
    traj = _one(fixtures_dir / name)
    path = write_trajectory(traj, tmp_path)
    assert read_trajectory(path) == traj
    assert detect_format(json.loads(path.read_text())) == "swe-srl"
    assert _one(path) == traj  # our own format through the importer


# --- SWE-agent before 1.0: command strings, modelled on SWE-agent's 0.x marshmallow demonstration ---

LEGACY_ACTIONS = [
    "create reproduce.py\n",
    'edit 1:1\nfrom marshmallow.fields import TimeDelta\nprint(TimeDelta(precision="ms"))\nend_of_edit\n',
    "python reproduce.py\n",
    'find_file "fields.py" src\n',
    "open src/marshmallow/fields.py 1474\n",
    "goto 1475\n",
    'search_dir "total_seconds" src\n',
    "edit 1475:1475\n        return int(round(value.total_seconds() / base.total_seconds()))\nend_of_edit\n",
    "submit\n",
]


def _legacy_doc() -> dict:
    system = (
        "SETTING: You are an autonomous programmer.\n\nCOMMANDS:\n"
        "open <path> [<line_number>] - opens the file at the given path in the editor.\n"
        "goto <line_number> - moves the window to show <line_number>\n"
        "create <filename> - creates and opens a new file with the given name\n"
        "submit - submits your current code and terminates the session\n"
    )
    issue = "TimeDelta serialization precision\nOutput of this snippet is `344`, but `345` is correct."
    user = (
        "We're currently solving the following issue within our repository. Here's the issue text:\n"
        f"ISSUE:\n{issue}\n\nINSTRUCTIONS:\nNow, you're going to solve this issue on your own."
    )
    trajectory = [
        {
            "action": action,
            "observation": f"output {i}\n",
            "response": f"thought {i}\n```\n{action}```",
            "state": '{"open_file": "n/a", "working_dir": "/marshmallow-code__marshmallow"}\n',
            "thought": f"thought {i}\n",
        }
        for i, action in enumerate(LEGACY_ACTIONS)
    ]
    history = [{"role": "system", "content": system, "agent": "primary"}, {"role": "user", "content": user}]
    for entry in trajectory:
        history.append({"role": "assistant", "content": entry["response"], "action": entry["action"]})
        history.append({"role": "user", "content": entry["observation"]})
    info = {"exit_status": "submitted", "submission": "diff --git a/x b/x\n", "model_stats": {"api_calls": 9}}
    return {"environment": "swe_main", "trajectory": trajectory, "history": history, "info": info}


def test_sweagent_legacy_command_strings_become_tool_calls(tmp_path):
    """0.x command strings: legacy commands whose output is no window or match list stay legacy calls
    with structured arguments (edit N:M never guessed into anything else)."""
    path = tmp_path / "marshmallow-code__marshmallow-1867.traj"
    path.write_text(json.dumps(_legacy_doc()))
    traj = _one(path)
    assert traj.source_format == "swe-agent-legacy"
    assert traj.instance_id == "marshmallow-code__marshmallow-1867"
    assert traj.problem_statement.startswith("TimeDelta serialization precision")
    assert traj.problem_statement.endswith("`345` is correct.")
    expected_tools = ["create", "edit", "bash", "find_file", "open", "goto", "search_dir", "edit", "submit"]
    assert [s.action.tool for s in traj.steps] == expected_tools
    assert [s.raw_action for s in traj.steps] == LEGACY_ACTIONS
    assert traj.steps[0].action.args == {"filename": "reproduce.py"}
    assert traj.steps[1].action.args == {
        "start_line": 1,
        "end_line": 1,
        "replacement_text": 'from marshmallow.fields import TimeDelta\nprint(TimeDelta(precision="ms"))',
    }
    assert traj.steps[3].action.args == {"file_name": "fields.py", "dir": "src"}
    assert traj.steps[4].action.args == {"path": "src/marshmallow/fields.py", "line_number": 1474}
    assert traj.steps[6].action.args == {"search_term": "total_seconds", "dir": "src"}
    assert traj.steps[-1].action == Action("submit")
    assert [s.observation for s in traj.steps] == [f"output {i}" for i in range(len(LEGACY_ACTIONS))]
    assert traj.final_patch == "diff --git a/x b/x\n"
    assert traj.metadata["workdir"] == "/marshmallow-code__marshmallow"
    extra = [spec["name"] for spec in traj.metadata["extra_tools"]]
    # No documentation of its own (an old one-line COMMANDS list): SWE-agent 0.x's commands are offered,
    # the translatable ones only where a call of them was not translated.
    assert set(extra) == {
        "edit",
        "scroll_up",
        "scroll_down",
        "create",
        "find_file",
        "open",
        "goto",
        "search_dir",
    }
    assert read_trajectory(write_trajectory(traj, tmp_path / "out.traj.json")) == traj


def test_real_legacy_trajectory_uses_its_own_issue_and_tools(tmp_path):
    """A real SWE-agent 0.x trajectory (pydicom-1458): the demonstration's issue is not the task."""
    path = Path(__file__).parent / "fixtures" / "sweagent-0.x" / "pydicom__pydicom-1458.traj"
    raw = json.loads(path.read_text())
    traj = _one(path)
    assert traj.instance_id == "pydicom__pydicom-1458"
    assert traj.problem_statement.startswith("Pixel Representation attribute should be optional")
    assert "TimeDelta" not in traj.problem_statement  # the demonstration's issue
    demos = [m["content"] for m in raw["history"] if m.get("is_demo")]
    assert demos and traj.metadata["demonstrations"] == demos
    assert [s.action.tool for s in traj.steps] == [
        "str_replace_editor",  # create reproduce_bug.py: one empty line, as 0.x wrote it
        "edit",
        "bash",
        "bash",  # find_file
        "str_replace_editor",  # open ... 293: the lines the window showed
        "edit",
        "edit",
        "edit",
        "edit",
        "bash",
        "bash",
        "submit",
    ]
    assert traj.steps[0].action.args["file_text"] == "\n"
    assert traj.steps[4].action.args["view_range"] == [273, 372]
    assert traj.steps[5].action.args["start_line"] == 287 and traj.steps[5].action.args["end_line"] == 295
    assert traj.steps[10].observation == "Your command ran successfully and did not produce any output."
    assert {spec["name"] for spec in traj.metadata["extra_tools"]} == {"edit", "scroll_up", "scroll_down"}
    assert traj.metadata["workdir"] == "/pydicom__pydicom"


# --- chat transcripts built from the pandas fixture, compared with its SWE-agent import ---


def _xml_call(name: str, args: dict) -> str:
    """SWE-smith's function-call text, written by hand (block parameters on their own lines)."""
    lines = [f"<function={name}>"]
    for key, value in args.items():
        text = json.dumps(value) if isinstance(value, list) else str(value)
        if key in ("file_text", "old_str", "new_str"):
            text = f"\n{text}\n"
        lines.append(f"<parameter={key}>{text}</parameter>")
    return "\n".join([*lines, "</function>"])


def _pandas_turns(fixtures_dir: Path) -> tuple[str, list[tuple[str, str, dict, str]]]:
    raw = _raw(fixtures_dir, PANDAS)
    task = raw["history"][1]["content"][0]["text"]
    calls = [m for m in raw["history"] if m["role"] == "assistant"]
    turns = []
    for entry, message in zip(raw["trajectory"], calls, strict=True):
        function = message["tool_calls"][0]["function"]
        turns.append(
            (entry["thought"], function["name"], json.loads(function["arguments"]), entry["observation"])
        )
    return task, turns


def _swesmith_row(fixtures_dir: Path) -> dict:
    task, turns = _pandas_turns(fixtures_dir)
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": task},
    ]
    for thought, name, args, observation in turns:
        messages.append({"role": "assistant", "content": f"{thought}\n\n{_xml_call(name, args)}"})
        messages.append({"role": "user", "content": f"OBSERVATION:\n{observation}"})
    return {
        "instance_id": "pandas-dev__pandas.95280573.pr_53856",
        "traj_id": "pandas-dev__pandas.95280573.pr_53856.claude",
        "resolved": True,
        "model": "claude-3-7-sonnet-20250219",
        "patch": "diff --git a/pandas/io/sql.py b/pandas/io/sql.py\n",
        "messages": messages,
    }


def _same_steps(imported: Trajectory, reference: Trajectory) -> None:
    assert [s.action for s in imported.steps] == [s.action for s in reference.steps]
    assert [s.thought for s in imported.steps] == [s.thought.strip() for s in reference.steps]
    assert [s.observation for s in imported.steps] == [s.observation for s in reference.steps]


def test_swesmith_messages_jsonl_and_parquet(fixtures_dir, tmp_path):
    reference = _one(fixtures_dir / PANDAS)
    row = _swesmith_row(fixtures_dir)
    jsonl = tmp_path / "swesmith.jsonl"
    jsonl.write_text(json.dumps(row) + "\n")
    table = pa.Table.from_pylist([{**row, "messages": json.dumps(row["messages"])}])
    pq.write_table(table, tmp_path / "swesmith.parquet")
    for path in (jsonl, tmp_path / "swesmith.parquet"):
        traj = _one(path)
        assert traj.source_format == "swe-smith"
        assert traj.resolved is True
        assert traj.metadata["trajectory_id"] == row["traj_id"]
        assert traj.final_patch == row["patch"]
        assert traj.problem_statement == reference.problem_statement
        _same_steps(traj, reference)


def _openai_row(fixtures_dir: Path) -> dict:
    task, turns = _pandas_turns(fixtures_dir)
    messages = [{"role": "system", "content": "You are OpenHands."}, {"role": "user", "content": task}]
    for number, (thought, name, args, observation) in enumerate(turns):
        call = {
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        messages.append({"role": "assistant", "content": thought, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": f"call_{number}", "content": observation})
    return {"instance_id": "pandas-dev__pandas.95280573.pr_53856", "resolved": False, "messages": messages}


def test_openai_tool_calls(fixtures_dir, tmp_path):
    reference = _one(fixtures_dir / PANDAS)
    path = tmp_path / "gym.json"
    path.write_text(json.dumps(_openai_row(fixtures_dir)))
    traj = _one(path)
    assert traj.source_format == "openai"
    assert traj.resolved is False
    _same_steps(traj, reference)


def test_openai_several_calls_in_one_message(tmp_path):
    calls = [
        {"id": "a", "function": {"name": "execute_bash", "arguments": '{"command": "ls"}'}},
        {
            "id": "b",
            "function": {"name": "str_replace_editor", "arguments": {"command": "view", "path": "/x"}},
        },
    ]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Fix it."}]},
        {"role": "assistant", "content": "Look around.", "tool_calls": calls},
        {"role": "tool", "tool_call_id": "b", "content": "file x"},
        {"role": "tool", "tool_call_id": "a", "content": "x"},
        {"role": "assistant", "content": "Done."},
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"messages": messages}))
    traj = _one(path)
    assert [(s.action.tool, s.observation, s.thought) for s in traj.steps] == [
        ("bash", "x", "Look around."),  # OpenHands' execute_bash is our bash
        ("str_replace_editor", "file x", ""),
    ]
    assert traj.problem_statement == "Fix it."
    assert traj.metadata["skipped_turns"][0]["content"] == "Done."


# --- malformed input ---


def test_missing_field_names_file_record_and_field(fixtures_dir, tmp_path):
    raw = _raw(fixtures_dir, MARSHMALLOW)
    del raw["trajectory"][3]["action"]
    path = tmp_path / "broken.traj"
    path.write_text(json.dumps(raw))
    with pytest.raises(RecordError) as err:
        list(import_paths([path]))
    assert str(path) in str(err.value)
    assert "trajectory[3].action" in str(err.value)


def test_bad_tool_arguments_name_the_message(tmp_path):
    bad = {"id": "a", "function": {"name": "bash", "arguments": "{not json"}}
    row = {
        "instance_id": "repo__x-1",
        "messages": [{"role": "user", "content": "t"}, {"role": "assistant", "tool_calls": [bad]}],
    }
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(RecordError) as err:
        list(import_paths([path]))
    message = str(err.value)
    assert "line 1" in message and "messages[1].tool_calls[0]" in message and str(path) in message


def test_skip_bad_counts_and_continues(fixtures_dir, tmp_path):
    good = _swesmith_row(fixtures_dir)
    lines = [
        json.dumps(good),
        "{truncated",
        json.dumps({"messages": "no"}),
        json.dumps({**good, "traj_id": "two"}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError, match="line 2"):
        list(import_paths([path]))
    report = ImportReport()
    trajectories = list(import_paths([path], skip_bad=True, report=report))
    assert [t.metadata["trajectory_id"] for t in trajectories] == [good["traj_id"], "two"]
    assert report.imported == 2
    assert len(report.skipped) == 2
    assert any("line 2" in s for s in report.skipped) and any("line 3" in s for s in report.skipped)


def test_unknown_format_and_forced_format(fixtures_dir, tmp_path):
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(RecordError, match="unknown trajectory format"):
        list(import_paths([path]))
    with pytest.raises(RecordError, match="unknown format"):
        list(import_paths([fixtures_dir / MINI], fmt="nope"))
    with pytest.raises(RecordError):
        list(import_paths([fixtures_dir / MINI], fmt="swe-agent"))
    assert _one(fixtures_dir / MINI, fmt="mini-swe-agent").source_format == "mini-swe-agent"


def test_cli_import_and_stats(fixtures_dir, tmp_path):
    bad = tmp_path / "in" / "bad.json"
    bad.parent.mkdir()
    bad.write_text("{")
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["trajectories", "import", str(fixtures_dir), str(bad.parent), "--out", str(out)]
    )
    assert result.exit_code == 2  # a malformed input file is a usage error (swe_srl.cli.errors)
    assert "bad.json" in result.output
    args = ["trajectories", "import", str(fixtures_dir), str(bad.parent), "--out", str(out), "--skip-bad"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "imported 3 trajectories" in result.output and "skipped 1" in result.output
    assert len(list(out.glob("*.traj.json"))) == 3
    result = runner.invoke(app, ["trajectories", "stats", str(out), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["trajectories"] == 3
    assert stats["steps"] == 17 + 11 + 10
    assert stats["tools"]["str_replace_editor"] == 6 + 2  # pandas's, marshmallow's create and open
    assert "steps per trajectory" in result.output


def test_mini_newer_format_with_a_rejected_turn(fixtures_dir, tmp_path):
    old = _raw(fixtures_dir, MINI)
    bad_turn = {"role": "assistant", "content": "Two at once:\n```bash\nls\n```\n```bash\npwd\n```"}
    error = {"role": "user", "content": "Please always provide EXACTLY ONE action in triple backticks."}
    messages = [*old[:4], bad_turn, error, *old[4:]]
    info = {
        "exit_status": "Submitted",
        "submission": "diff --git a/tests/missing_colon.py b/tests/missing_colon.py\n",
        "model_stats": {"instance_cost": 0.1, "api_calls": 11},
        "config": {"model": {"model_name": "claude-sonnet-4"}},
    }
    path = tmp_path / "new.traj.json"
    path.write_text(json.dumps({"info": info, "messages": messages, "trajectory_format": "mini-swe-agent-1"}))
    traj = _one(path)
    reference = _one(fixtures_dir / MINI)
    assert [s.action for s in traj.steps] == [s.action for s in reference.steps]
    assert [s.observation for s in traj.steps] == [s.observation for s in reference.steps]
    assert traj.final_patch == info["submission"]
    assert traj.model == "claude-sonnet-4"
    assert traj.metadata["info"]["model_stats"]["api_calls"] == 11
    assert [t["content"] for t in traj.metadata["skipped_turns"]] == [bad_turn["content"], error["content"]]
