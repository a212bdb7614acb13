"""OpenHands runs imported from the real fixtures: what the expert did, on which issue, in which folder."""

from __future__ import annotations

import json
from pathlib import Path

from swe_srl.trajectories.importers import import_paths
from swe_srl.trajectories.steps import step_instances

FIXTURES = Path(__file__).parent.parent / "fixtures" / "openhands"
RESOLVER = FIXTURES / "resolver_output_old_events.jsonl"
MULTI_SWE_BENCH = FIXTURES / "multi_swe_bench_output.jsonl"


def test_old_ipython_event_target_holds_only_the_code():
    """An older flat ``run_ipython`` event also records the harness's own fields (``is_confirmed``,
    ``kernel_init_code``): the model wrote only the code, so the action holds only the code."""
    raw = json.loads(RESOLVER.read_text())
    event = next(e for e in raw["history"] if e.get("action") == "run_ipython")
    traj = next(import_paths([RESOLVER]))
    step = next(s for s in traj.steps if s.action.tool == "execute_ipython_cell")
    assert step.action.args == {"code": event["code"]}
    spec = next(t for t in traj.metadata["extra_tools"] if t["name"] == "execute_ipython_cell")
    assert [p["name"] for p in spec["params"]] == ["code"]


def test_resolver_row_is_named_and_posed_by_its_issue():
    """A resolver row carries the GitHub issue it worked on: that is the task, not the agent's prompt."""
    raw = json.loads(RESOLVER.read_text())
    issue = raw["issue"]
    traj = next(import_paths([RESOLVER]))
    assert traj.instance_id == f"{issue['owner']}__{issue['repo']}-{issue['number']}"
    assert traj.problem_statement == f"{issue['title']}\n{issue['body']}"
    assert "execute_bash" not in traj.problem_statement  # the harness's instructions stay out


def test_uploaded_folder_is_the_instances_working_directory():
    """OpenHands prompts name the repository's folder in <uploaded_files>; the step prompt says the same."""
    rows = [json.loads(line) for line in MULTI_SWE_BENCH.read_text().splitlines()]
    folder = rows[0]["instruction"].split("<uploaded_files>\n", 1)[1].split("\n", 1)[0]
    assert folder == "/workspace/ponylang__ponyc__0.1"
    for traj in import_paths([MULTI_SWE_BENCH]):
        assert traj.metadata["workdir"] == folder
        system = next(step_instances(traj)).prompt[0]["content"]
        assert f"repository at {folder}." in system and f"<parameter=command>ls {folder}<" in system


def test_swe_gym_rows_say_where_the_repository_is(tmp_path):
    """SWE-Gym's sampled rows (OpenAI tool calls) upload the repository under /workspace."""
    task = (
        "<uploaded_files>\n/workspace/dask__dask__2022.6\n</uploaded_files>\nI've uploaded a python code "
        "repository in the directory dask__dask__2022.6. Consider the following PR description:\n\n"
        "<pr_description>\nEnum deterministic hashing\n</pr_description>\n"
    )
    call = {"id": "call_1", "type": "function", "index": None}
    call["function"] = {
        "name": "execute_bash",
        "arguments": '{"command": "ls /workspace/dask__dask__2022.6"}',
    }
    row = {
        "instance_id": "dask__dask-9212",
        "run_id": "gpt-4o-2024-08-06_maxiter_30_N_v2.1-no-hint-train-t04-run_1",
        "resolved": True,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant.", "tool_calls": None},
            {"role": "user", "content": task, "tool_calls": None},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {
                "role": "tool",
                "content": "OBSERVATION:\ndask",
                "tool_call_id": "call_1",
                "name": "execute_bash",
            },
        ],
    }
    path = tmp_path / "sampled.jsonl"
    path.write_text(json.dumps(row) + "\n")
    traj = next(import_paths([path]))
    assert traj.metadata["workdir"] == "/workspace/dask__dask__2022.6"
    assert traj.problem_statement == "Enum deterministic hashing"
