"""mini-swe-agent 2.x trajectory files as its SWE-bench runner writes them.

The runner saves ``{"info": ..., "messages": [...], "trajectory_format": "mini-swe-agent-1.1",
"instance_id": ...}`` (``run/benchmarks/swebench.py``); every assistant message carries the commands
that ran in ``extra.actions``. Its text-based configurations write the command in a
````` ```mswea_bash_command ````` fence (``mini_textbased.yaml``) or in ``<mswea_bash_command>`` tags
(``swebench_xml.yaml``). The files here are written in that shape from the real 1.x fixture's turns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from swe_srl.trajectories.importers import import_paths

FIXTURE = Path(__file__).parent.parent / "fixtures" / "trajectories" / "mini_github_issue.traj.json"
FENCE = re.compile(r"```mswea_bash_command\s*\n(.*?)\n```", re.DOTALL)
SWE_SMITH_ID = "pandas-dev__pandas.95280573.pr_53856"  # SWE-smith ids hold dots


def _turns() -> tuple[list[dict], list[tuple[str, str, str]]]:
    """(the fixture's system and task messages, its (thought, command, observation) turns)."""
    messages = json.loads(FIXTURE.read_text())
    head = [m for m in messages[:2]]
    turns = []
    for message, reply in zip(messages[2::2], messages[3::2], strict=False):
        match = FENCE.search(message["content"])
        turns.append((message["content"][: match.start()].strip(), match.group(1).strip(), reply["content"]))
    return head, turns


def _xml_config_file(path: Path, instance_id: str) -> list[str]:
    """A run of ``swebench_xml.yaml`` (commands in tags); returns the commands it ran."""
    head, turns = _turns()
    messages = [{**m, "extra": {}} for m in head]
    for thought, command, output in turns:
        content = f"THOUGHT: {thought}\n\n<mswea_bash_command>{command}</mswea_bash_command>"
        ran = {"actions": [{"command": command}]}
        messages.append({"role": "assistant", "content": content, "extra": ran})
        messages.append({"role": "user", "content": output, "extra": {"returncode": 0}})
    messages.append({"role": "exit", "content": "Submitted", "extra": {"exit_status": "Submitted"}})
    info = {"exit_status": "Submitted", "submission": "diff --git a/x b/x\n", "mini_version": "2.1.0"}
    data = {"info": info, "messages": messages, "trajectory_format": "mini-swe-agent-1.1"}
    path.write_text(json.dumps({**data, "instance_id": instance_id}))
    return [command for _, command, _ in turns]


def test_mini_xml_config_commands_become_steps(tmp_path):
    path = tmp_path / "pydicom__pydicom-1458.traj.json"
    commands = _xml_config_file(path, "pydicom__pydicom-1458")
    traj = next(import_paths([path]))
    assert [s.action.args["command"] for s in traj.steps] == commands
    assert all(s.action.tool == "bash" for s in traj.steps)
    assert traj.steps[0].thought.startswith("THOUGHT: I'll help you solve this issue.")
    assert "skipped_turns" not in traj.metadata


def test_executed_actions_are_the_steps_when_the_text_has_no_known_block(tmp_path):
    """A custom ``action_regex``: ``extra.actions`` still says what ran."""
    head, turns = _turns()
    messages = list(head)
    for thought, command, output in turns[:3]:
        content = f"{thought}\n\n<cmd>{command}</cmd>"
        ran = {"actions": [{"command": command}]}
        messages.append({"role": "assistant", "content": content, "extra": ran})
        messages.append({"role": "user", "content": output})
    path = tmp_path / "custom.traj.json"
    path.write_text(json.dumps({"messages": messages, "trajectory_format": "mini-swe-agent-1.1", "info": {}}))
    traj = next(import_paths([path]))
    assert [s.action.args["command"] for s in traj.steps] == [c for _, c, _ in turns[:3]]
    assert [s.observation for s in traj.steps] == [o.strip() for _, _, o in turns[:3]]
    assert [s.thought for s in traj.steps] == [t for t, _, _ in turns[:3]]


def test_mini_runner_instance_id_is_the_trajectory_instance_id(tmp_path):
    path = tmp_path / f"{SWE_SMITH_ID}.traj.json"
    _xml_config_file(path, SWE_SMITH_ID)
    traj = next(import_paths([path]))
    assert traj.instance_id == SWE_SMITH_ID


def test_a_mini_file_named_after_a_dotted_id_keeps_the_whole_id(tmp_path):
    """Without an id inside the file, the file name is the id: all of it, not up to the first dot."""
    path = tmp_path / f"{SWE_SMITH_ID}.traj.json"
    path.write_text(FIXTURE.read_text())  # the 1.x format: a bare list of messages, no id
    assert next(import_paths([path])).instance_id == SWE_SMITH_ID


def test_a_reply_whose_executed_command_is_not_in_its_text_keeps_its_text_as_thought(tmp_path):
    head, _ = _turns()
    reply = {
        "role": "assistant",
        "content": "Listing the tests first.",
        "extra": {"actions": [{"command": "ls"}]},
    }
    messages = [*head, reply, {"role": "user", "content": "tests"}]
    path = tmp_path / "run.traj.json"
    path.write_text(json.dumps({"messages": messages, "trajectory_format": "mini-swe-agent-1.1", "info": {}}))
    (step,) = next(import_paths([path])).steps
    assert step.action.args == {"command": "ls"} and step.thought == "Listing the tests first."
