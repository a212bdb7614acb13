"""Importers for the public collections' real shapes: rows as JSONL, JSON arrays and parquet shards.

Shards are written here in the exact column schemas of the datasets' cards, from the real
fixtures' content (no download). Expected values are read from the source data, not the importer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swe_srl.context import render_reply
from swe_srl.records import Action, RecordError
from swe_srl.reward import step_reward
from swe_srl.trajectories.detect import detect_format
from swe_srl.trajectories.importers import ImportReport, import_paths
from swe_srl.trajectories.steps import step_instances

FIXTURES = Path(__file__).parent / "fixtures"
PYDICOM = FIXTURES / "sweagent-0.x" / "pydicom__pydicom-1458.traj"
PANDAS = FIXTURES / "trajectories" / "swesmith_pandas_53856.traj"
OPENHANDS = FIXTURES / "openhands" / "multi_swe_bench_output.jsonl"
OPENHANDS_OLD = FIXTURES / "openhands" / "resolver_output_old_events.jsonl"
NO_OUTPUT = "Your command ran successfully and did not produce any output."

# nebius/SWE-agent-trajectories (dataset card): one row per trajectory.
NEBIUS_SCHEMA = pa.schema(
    [
        ("instance_id", pa.string()),
        ("model_name", pa.string()),
        ("target", pa.bool_()),
        (
            "trajectory",
            pa.list_(
                pa.struct(
                    [
                        ("cutoff_date", pa.string()),
                        ("mask", pa.bool_()),
                        ("role", pa.string()),
                        ("system_prompt", pa.string()),
                        ("text", pa.string()),
                    ]
                )
            ),
        ),
        ("exit_status", pa.string()),
        ("generated_patch", pa.string()),
        ("eval_logs", pa.string()),
    ]
)


def _learnable(traj) -> bool:
    instances = list(step_instances(traj))
    return bool(instances) and all(
        step_reward(render_reply(i.thought, i.target), i.target, tools=i.tool_specs) == 1.0 for i in instances
    )


def _nebius_row(index: int) -> dict:
    """The real pydicom-1458 0.x trajectory as a nebius row: its chat without the demonstration."""
    raw = json.loads(PYDICOM.read_text())
    items = [
        {
            "cutoff_date": "01.01.2023",
            "mask": False,
            "role": "system",
            "system_prompt": raw["history"][0]["content"],
            "text": None,
        }
    ]
    for message in raw["history"][1:]:
        if message.get("is_demo"):
            continue
        role = "ai" if message["role"] == "assistant" else "user"
        items.append(
            {
                "cutoff_date": None,
                "mask": role == "ai",
                "role": role,
                "system_prompt": None,
                "text": message["content"],
            }
        )
    return {
        "instance_id": "pydicom__pydicom-1458",
        "model_name": f"swe-agent-llama-{index}",
        "target": index % 2 == 0,
        "trajectory": items,
        "exit_status": "submitted",
        "generated_patch": raw["info"]["submission"],
        "eval_logs": "",
    }


def test_nebius_rows_in_parquet_shards_stream_and_match_the_traj_import(tmp_path):
    rows = [_nebius_row(i) for i in range(5)]
    table = pa.Table.from_pylist(rows, schema=NEBIUS_SCHEMA)
    shard = tmp_path / "train-00000-of-00002.parquet"
    pq.write_table(table, shard, row_group_size=2)
    assert pq.ParquetFile(shard).num_row_groups == 3
    imported = list(import_paths([shard]))
    reference = next(import_paths([PYDICOM]))
    assert [t.source_format for t in imported] == ["swe-agent-rows"] * 5
    assert len({t.metadata["trajectory_id"] for t in imported}) == 5  # one instance, five trajectories
    for row, traj in zip(rows, imported, strict=True):
        assert traj.instance_id == "pydicom__pydicom-1458" and traj.model == row["model_name"]
        assert traj.resolved is row["target"]
        assert traj.problem_statement == reference.problem_statement
        assert [s.action for s in traj.steps] == [s.action for s in reference.steps]
        # The row's chat ends with the submit: what it printed was never shown to the model.
        assert [s.observation for s in traj.steps[:-1]] == [s.observation for s in reference.steps[:-1]]
        assert traj.steps[-1].observation == NO_OUTPUT
        assert traj.metadata["workdir"] == "/pydicom__pydicom"
        assert _learnable(traj)
    assert "(Current directory:" not in "".join(s.observation for s in imported[0].steps)


def test_json_array_of_rows_and_jsonl_give_the_same_trajectories(tmp_path):
    rows = [_nebius_row(i) for i in range(3)]
    array, lines = tmp_path / "rows.json", tmp_path / "rows.jsonl"
    array.write_text(json.dumps(rows))
    lines.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    from_array, from_lines = list(import_paths([array])), list(import_paths([lines]))
    assert len(from_array) == len(from_lines) == 3
    assert [t.steps for t in from_array] == [t.steps for t in from_lines]


def _pandas_calls() -> tuple[str, list[tuple[str, str, dict, str]]]:
    raw = json.loads(PANDAS.read_text())
    task = raw["history"][1]["content"][0]["text"]
    turns = []
    for entry, message in zip(
        raw["trajectory"], [m for m in raw["history"] if m["role"] == "assistant"], strict=True
    ):
        function = message["tool_calls"][0]["function"]
        turns.append(
            (entry["thought"], function["name"], json.loads(function["arguments"]), entry["observation"])
        )
    return task, turns


OPENHANDS_NAMES = {"bash": "execute_bash", "submit": "finish", "str_replace_editor": "str_replace_editor"}


def test_swe_gym_sampled_rows_with_tool_calls_in_parquet(tmp_path):
    """SWE-Gym/OpenHands-Sampled-Trajectories: instance_id, run_id, resolved, messages, tools, test_result."""
    task, turns = _pandas_calls()
    messages = [
        {
            "content": "You are a helpful assistant.",
            "function_call": None,
            "name": None,
            "role": "system",
            "tool_call_id": None,
            "tool_calls": None,
        },
        {
            "content": task,
            "function_call": None,
            "name": None,
            "role": "user",
            "tool_call_id": None,
            "tool_calls": None,
        },
    ]
    for number, (thought, name, args, observation) in enumerate(turns):
        name = OPENHANDS_NAMES[name]
        if name == "execute_bash":
            args = {**args, "is_input": "false"}
        call = {
            "function": {"arguments": json.dumps(args), "name": name},
            "id": f"call_{number}",
            "index": None,
            "type": "function",
        }
        messages.append(
            {
                "content": thought,
                "function_call": None,
                "name": None,
                "role": "assistant",
                "tool_call_id": None,
                "tool_calls": [call],
            }
        )
        messages.append(
            {
                "content": f"OBSERVATION:\n{observation}",
                "function_call": None,
                "name": name,
                "role": "tool",
                "tool_call_id": f"call_{number}",
                "tool_calls": None,
            }
        )
    think = {
        "type": "function",
        "function": {
            "name": "think",
            "description": "Log a thought.",
            "parameters": {
                "type": "object",
                "properties": {"thought": {"type": "string"}},
                "required": ["thought"],
            },
        },
    }
    row = {
        "instance_id": "pandas-dev__pandas-53856_0",
        "run_id": "gpt-4o_run_1",
        "resolved": True,
        "messages": messages,
        "tools": [json.dumps(think)],
        "test_result": json.dumps({"git_patch": "diff"}),
    }
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "sampled.parquet")
    traj = next(import_paths([tmp_path / "sampled.parquet"]))
    reference = next(import_paths([PANDAS]))
    assert traj.source_format == "openai" and traj.resolved is True
    assert [s.action for s in traj.steps] == [s.action for s in reference.steps]  # our tool names
    assert [s.observation for s in traj.steps] == [s.observation for s in reference.steps]
    assert _learnable(traj)


def test_swe_gym_sft_rows_in_openhands_text_format(tmp_path):
    """SWE-Gym/OpenHands-SFT-Trajectories: <function=...> text calls, EXECUTION RESULT replies."""
    task, turns = _pandas_calls()
    messages = [{"role": "system", "content": "You are OpenHands agent."}, {"role": "user", "content": task}]
    for thought, name, args, observation in turns:
        name = OPENHANDS_NAMES[name]
        params = "".join(
            f"<parameter={k}>\n{json.dumps(v) if isinstance(v, list) else v}\n</parameter>\n"
            for k, v in args.items()
        )
        messages.append(
            {"role": "assistant", "content": f"{thought}\n<function={name}>\n{params}</function>"}
        )
        messages.append({"role": "user", "content": f"EXECUTION RESULT of [{name}]:\n{observation}"})
    rows = tmp_path / "sft.json"
    rows.write_text(json.dumps([{"messages": messages}, {"messages": messages[:4]}]))
    first, second = list(import_paths([rows]))
    assert detect_format({"messages": messages}) == "openhands-sft"
    reference = next(import_paths([PANDAS]))
    strip = {"file_text", "old_str", "new_str"}  # OpenHands trims parameter values
    expected = [
        Action(a.tool, {k: v.strip() if k in strip else v for k, v in a.args.items()})
        for a in (s.action for s in reference.steps)
    ]
    assert [s.action for s in first.steps] == expected
    assert [s.observation for s in first.steps] == [s.observation for s in reference.steps]
    assert len(second.steps) == 1 and _learnable(first)


def test_openhands_output_jsonl_current_event_format():
    """OpenHands' own output.jsonl (its multi_swe_bench example): actions from the model's tool calls."""
    rows = [json.loads(line) for line in OPENHANDS.read_text().splitlines()]
    trajectories = list(import_paths([OPENHANDS]))
    assert [t.instance_id for t in trajectories] == [r["instance_id"] for r in rows]
    first, row = trajectories[0], rows[0]
    assert first.source_format == "openhands"
    assert first.problem_statement == row["instance"]["problem_statement"]
    assert first.final_patch == row["test_result"]["git_patch"]
    calls = [e for e in row["history"] if e.get("tool_call_metadata") and "action" in e]
    assert len(first.steps) == len(calls)
    command = next(e for e in calls if e["action"] == "run")
    step = next(s for s in first.steps if s.action.tool == "bash")
    assert step.action.args == {"command": command["args"]["command"]}
    answer = next(e for e in row["history"] if e.get("cause") == command["id"])
    assert step.observation.startswith(answer["content"].strip()[:50])
    assert "[Command finished with exit code" in step.observation or "exit code" in step.observation
    assert [t.metadata["extra_tools"][0]["name"] for t in trajectories if "extra_tools" in t.metadata] == [
        "think",
        "think",
    ]
    assert all(_learnable(t) for t in trajectories)


def test_openhands_old_flat_events_and_exported_stream(tmp_path):
    old = next(import_paths([OPENHANDS_OLD]))
    raw = json.loads(OPENHANDS_OLD.read_text().splitlines()[0])
    runs = [e for e in raw["history"] if e.get("action") == "run"]
    assert [s.action for s in old.steps if s.action.tool == "bash"] == [
        Action("bash", {"command": e["command"]}) for e in runs
    ]
    assert old.steps[0].thought == runs[0]["thought"]
    assert old.final_patch == raw["git_patch"]
    events = json.loads(OPENHANDS.read_text().splitlines()[0])["history"]
    exported = tmp_path / "conversation.json"
    exported.write_text(json.dumps(events))  # the UI's export: a JSON array of events
    stream = next(import_paths([exported]))
    row = next(import_paths([OPENHANDS]))
    assert stream.steps == row.steps and stream.problem_statement == row.problem_statement


def test_mini_swe_agent_tool_call_format(tmp_path):
    """mini-swe-agent 2.x (trajectory_format mini-swe-agent-1.1): native bash tool calls."""
    text_format = json.loads((FIXTURES / "trajectories" / "mini_github_issue.traj.json").read_text())
    reference = next(import_paths([FIXTURES / "trajectories" / "mini_github_issue.traj.json"]))
    messages = [text_format[0], text_format[1]]
    for number, step in enumerate(reference.steps):
        call = {
            "id": f"toolu_{number}",
            "type": "function",
            "function": {"name": "bash", "arguments": json.dumps(step.action.args)},
        }
        messages.append(
            {
                "role": "assistant",
                "content": step.thought,
                "tool_calls": [call],
                "extra": {"actions": [{**step.action.args, "tool_call_id": f"toolu_{number}"}]},
            }
        )
        messages.append(
            {
                "role": "tool",
                "tool_call_id": f"toolu_{number}",
                "content": step.observation,
                "extra": {"returncode": 0},
            }
        )
    messages.append(
        {
            "role": "user",
            "content": "",
            "extra": {"exit_status": "Submitted", "submission": "diff --git a/x b/x\n"},
        }
    )
    info = {"exit_status": "Submitted", "submission": "diff --git a/x b/x\n", "mini_version": "2.0.0"}
    path = tmp_path / "issue.traj.json"
    path.write_text(
        json.dumps({"info": info, "messages": messages, "trajectory_format": "mini-swe-agent-1.1"})
    )
    traj = next(import_paths([path]))
    assert traj.source_format == "mini-swe-agent"
    assert [(s.action, s.observation, s.thought) for s in traj.steps] == [
        (s.action, s.observation, s.thought) for s in reference.steps
    ]
    assert traj.final_patch == "diff --git a/x b/x\n"


def test_agent_data_protocol_standardized_trajectory(tmp_path):
    """ADP's standardized form of a nebius row (api/code actions, SWE-agent state lines, quoted kwargs)."""
    state = "\n\n(Open file: n/a)\n(Current directory: /plumbum)\nbash-$"
    window = "[File: /plumbum/plumbum/cli/image.py (99 lines total)]\n"
    window += "1:from __future__ import print_function\n2:\n3:from plumbum import colors"
    content = [
        {
            "class_": "text_observation",
            "content": "ISSUE:\nSyntaxError in image.py\n\nINSTRUCTIONS:\nSolve it." + state,
            "name": None,
            "source": "user",
        },
        {"class_": "code_action", "language": "bash", "content": "ls -F", "description": "Look around."},
        {
            "class_": "text_observation",
            "content": "plumbum/\nsetup.py" + state,
            "name": None,
            "source": "user",
        },
        {
            "class_": "api_action",
            "function": "open",
            "kwargs": {"path": '"plumbum/cli/image.py"'},
            "description": "Open it.",
        },
        {"class_": "text_observation", "content": window + state, "name": None, "source": "user"},
        {
            "class_": "api_action",
            "function": "edit",
            "kwargs": {"start_line": 5, "end_line": 5, "replacement_text": '"import plumbum.cli as cli\n"'},
            "description": "Fix.",
        },
        {"class_": "text_observation", "content": "File updated." + state, "name": None, "source": "user"},
        {"class_": "api_action", "function": "submit", "kwargs": {}, "description": "Done."},
        {
            "class_": "text_observation",
            "content": "Task completed successfully.",
            "name": None,
            "source": "user",
        },
        {"class_": "message_action", "content": "<finish> I did it! </finish>", "description": ""},
    ]
    record = {
        "id": "tomerfiliba__plumbum-366_17",
        "content": content,
        "details": {"model_name": "swe-agent-llama-70b", "generated_patch": "diff\n"},
    }
    path = tmp_path / "std.json"
    path.write_text(json.dumps([record]))
    traj = next(import_paths([path]))
    assert traj.source_format == "adp" and traj.problem_statement == "SyntaxError in image.py"
    assert [s.action.tool for s in traj.steps] == ["bash", "str_replace_editor", "edit", "submit"]
    assert traj.steps[1].action.args == {
        "command": "view",
        "path": "/plumbum/plumbum/cli/image.py",
        "view_range": [1, 3],
    }
    assert traj.steps[2].action.args["replacement_text"] == "import plumbum.cli as cli\n"
    assert traj.steps[0].observation == "plumbum/\nsetup.py" and traj.steps[0].thought == "Look around."
    assert traj.metadata["skipped_turns"][0]["content"].startswith("<finish>")
    assert _learnable(traj)


def _moatless_nodes() -> list[dict]:
    def step(cls: str, observation: str, **args) -> dict:
        return {
            "action": {
                "thoughts": f"Use {cls}.",
                **args,
                "action_args_class": f"moatless.actions.x.{cls}Args",
            },
            "observation": {"message": observation, "terminal": cls == "Finish", "properties": {}},
        }

    return [
        {
            "node_id": 0,
            "parent_id": None,
            "user_message": "<pr_description>\nFix the parser.\n</pr_description>",
            "action_steps": [],
        },
        {
            "node_id": 1,
            "parent_id": 0,
            "action_steps": [step("FindClass", "Found Parser in parser.py", class_name="Parser")],
        },
        {
            "node_id": 2,
            "parent_id": 1,
            "action_steps": [
                step(
                    "ViewCode",
                    "def parse(): ...",
                    files=[{"file_path": "parser.py", "start_line": 1, "end_line": 20}],
                )
            ],
        },
        {
            "node_id": 3,
            "parent_id": 2,
            "reward": {"value": 90},
            "action_steps": [
                step(
                    "StringReplace",
                    "The file parser.py has been edited.",
                    path="parser.py",
                    old_str="a",
                    new_str="b",
                ),
                step("Finish", "Done", finish_reason="fixed"),
            ],
        },
        {
            "node_id": 4,
            "parent_id": 1,
            "reward": {"value": 10},
            "action_steps": [step("Reject", "Rejected", rejection_reason="stuck")],
        },
    ]


def test_moatless_search_tree_follows_the_best_finished_leaf(tmp_path):
    nodes = _moatless_nodes()
    flat = tmp_path / "trajectory.json"
    flat.write_text(
        json.dumps(
            {
                "trajectory_id": "django-1",
                "project_id": "p",
                "metadata": {"instance_id": "django__django-1"},
                "nodes": nodes,
            }
        )
    )
    traj = next(import_paths([flat]))
    assert traj.source_format == "moatless" and traj.instance_id == "django__django-1"
    assert traj.problem_statement == "Fix the parser."
    assert traj.metadata["path"] == [0, 1, 2, 3] and traj.metadata["leaves"] == 2
    assert [s.action.tool for s in traj.steps] == ["FindClass", "ViewCode", "StringReplace", "submit"]
    assert json.loads(traj.steps[1].action.args["files"])[0]["file_path"] == "parser.py"
    assert traj.steps[2].observation == "The file parser.py has been edited."
    assert _learnable(traj)
    children: dict[int, list] = {}
    for node in nodes:
        children.setdefault(node["parent_id"], []).append(node)

    def tree(node: dict) -> dict:
        return {
            **{k: v for k, v in node.items() if k != "parent_id"},
            "children": [tree(c) for c in children.get(node["node_id"], [])],
        }

    nested = tmp_path / "old.json"
    nested.write_text(json.dumps({"unique_id": "django-1", "root": tree(nodes[0])}))
    assert next(import_paths([nested])).steps == traj.steps


def test_malformed_rows_name_file_row_and_field_and_skip_bad_counts(tmp_path):
    good = _nebius_row(0)
    bad = _nebius_row(1)
    bad["trajectory"][3]["text"] = 42
    pq.write_table(
        pa.Table.from_pylist([good, {**good, "model_name": "m2"}], schema=NEBIUS_SCHEMA),
        tmp_path / "a.parquet",
    )
    lines = tmp_path / "b.jsonl"
    lines.write_text(json.dumps(bad) + "\n{not json\n" + json.dumps(good) + "\n")
    with pytest.raises(RecordError) as err:
        list(import_paths([lines]))
    assert (
        str(lines) in str(err.value) and "line 1" in str(err.value) and "trajectory[3].text" in str(err.value)
    )
    report = ImportReport()
    imported = list(import_paths([tmp_path], skip_bad=True, report=report))
    assert len(imported) == 3 and report.imported == 3 and len(report.skipped) == 2
    assert any("line 2" in s and "not valid JSON" in s for s in report.skipped)
    broken = tmp_path / "c.parquet"
    broken.write_bytes(b"PAR1 this is no parquet file")
    with pytest.raises(RecordError, match=r"c\.parquet"):
        list(import_paths([broken]))
