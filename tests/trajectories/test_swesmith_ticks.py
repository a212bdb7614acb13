"""SWE-bench/SWE-smith-trajectories' ``ticks`` split: SWE-agent's thought-action format.

SWE-smith's converter (``swesmith/train/traj_mgr/utils.py``, ``transform_traj_backticks``) writes
each assistant turn as ``f"{thought}\\n\\n```\\n{action}\\n```"``, where ``action`` is the command
line SWE-agent ran (``str_replace_editor view /testbed/x.py --view_range 1 20``, a bash command,
``submit``); tool replies become user messages. Rows are written here that way from the real
SWE-agent 1.0.1 trajectory, as a parquet shard with the dataset's columns.
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


def _ticks_messages(history: list[dict]) -> list[dict]:
    messages = []
    for message in history:
        if message["role"] == "assistant":
            content = f"{message['thought']}\n\n```\n{message['action']}\n```"
        elif message["role"] == "system":
            content = message["content"]
        else:
            content = message["content"][0]["text"]
        messages.append(
            {"role": "user" if message["role"] == "tool" else message["role"], "content": content}
        )
    return messages


def test_ticks_rows_import_as_the_trajectory_they_were_made_from(tmp_path):
    raw = json.loads(PANDAS.read_text())
    row = {
        "messages": json.dumps(_ticks_messages(raw["history"])),
        "instance_id": "pandas-dev__pandas.95280573.pr_53856",
        "resolved": True,
        "model": "claude-3-7-sonnet-20250219",
        "traj_id": "pandas-dev__pandas.95280573.pr_53856.8qa84d2e",
        "patch": raw["info"]["submission"],
    }
    shard = tmp_path / "ticks-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([row]), shard)
    (traj,) = import_paths([shard])
    reference = next(import_paths([PANDAS]))
    assert traj.source_format == "swe-smith" and traj.resolved is True
    assert traj.problem_statement == reference.problem_statement
    assert [s.action for s in traj.steps] == [s.action for s in reference.steps]
    assert [s.observation for s in traj.steps] == [s.observation for s in reference.steps]
    assert [s.thought for s in traj.steps] == [s.thought for s in reference.steps]
    instances = list(step_instances(traj))
    assert instances and all(
        step_reward(render_reply(i.thought, i.target), i.target, tools=i.tool_specs) == 1.0 for i in instances
    )
