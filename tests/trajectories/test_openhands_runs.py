"""OpenHands runs imported from the real fixtures: what the expert did, on which issue, in which folder."""

from __future__ import annotations

import json
from pathlib import Path

from swe_srl.trajectories.importers import import_paths

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
