"""Datasets that keep an OpenHands run's chat in a ``trajectory`` column.

``nebius/SWE-rebench-openhands-trajectories`` (67k rows; card columns ``trajectory_id``,
``instance_id``, ``repo``, ``trajectory`` as a list of ``{role, content, tool_calls, name,
tool_call_id}``, ``tools``, ``model_patch``, ``exit_status``, ``resolved`` as an integer) and
``nvidia/SWE-Zero-openhands-trajectories`` write the same OpenAI-style messages as SWE-Gym's rows,
under another column name. A shard is written here in that schema from the real SWE-agent 1.0.1
trajectory's calls, with OpenHands' tool names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from swe_srl.context import render_reply
from swe_srl.reward import step_reward
from swe_srl.trajectories.importers import import_paths
from swe_srl.trajectories.steps import step_instances

PANDAS = Path(__file__).parent.parent / "fixtures" / "trajectories" / "swesmith_pandas_53856.traj"
OPENHANDS_NAMES = {"bash": "execute_bash", "submit": "finish", "str_replace_editor": "str_replace_editor"}
FOLDER = "/workspace/pandas-dev__pandas__2.1"


def _message(role: str, content: str, **fields) -> dict:
    return {
        "role": role,
        "content": content,
        "tool_calls": None,
        "name": None,
        "tool_call_id": None,
        **fields,
    }


def _row() -> dict:
    raw = json.loads(PANDAS.read_text())
    task = raw["history"][1]["content"][0]["text"].replace("/testbed", FOLDER)
    messages = [_message("system", "You are OpenHands agent."), _message("user", task)]
    calls = [m for m in raw["history"] if m["role"] == "assistant"]
    for number, (entry, message) in enumerate(zip(raw["trajectory"], calls, strict=True)):
        function = message["tool_calls"][0]["function"]
        name = OPENHANDS_NAMES[function["name"]]
        arguments = function["arguments"].replace("/testbed", FOLDER)
        call = {
            "function": {"arguments": arguments, "name": name},
            "id": f"toolu_{number}",
            "type": "function",
        }
        messages.append(_message("assistant", entry["thought"], tool_calls=[call]))
        messages.append(_message("tool", entry["observation"], name=name, tool_call_id=f"toolu_{number}"))
    return {
        "trajectory_id": "chatcmpl-27dd0152801d38b5a37ff92d729c9fc1",
        "instance_id": "pandas-dev__pandas-53856",
        "repo": "pandas-dev/pandas",
        "trajectory": messages,
        "model_patch": raw["info"]["submission"],
        "exit_status": "submit",
        "resolved": 1,
    }


def test_chat_in_a_trajectory_column_imports_as_tool_calls(tmp_path):
    shard = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([_row()]), shard)
    (traj,) = import_paths([shard])
    reference = next(import_paths([PANDAS]))
    assert traj.source_format == "openai"
    assert traj.instance_id == "pandas-dev__pandas-53856" and traj.resolved is True
    assert traj.metadata["trajectory_id"] == "chatcmpl-27dd0152801d38b5a37ff92d729c9fc1"
    assert traj.metadata["workdir"] == FOLDER and "trajectory" not in traj.metadata
    assert [s.action.tool for s in traj.steps] == [s.action.tool for s in reference.steps]
    assert len(traj.steps) == len(reference.steps)
    instances = list(step_instances(traj))
    assert all(
        step_reward(render_reply(i.thought, i.target), i.target, tools=i.tool_specs) == 1.0 for i in instances
    )
