"""The normalized trajectory format: write, read, stream, and errors that name file/record/field."""

from __future__ import annotations

import json

import pytest

from swe_srl.records import TRAJECTORY_SCHEMA_VERSION, Action, RecordError, Step, Trajectory
from swe_srl.trajectories.io import (
    iter_trajectories,
    read_trajectory,
    trajectory_id,
    write_jsonl,
    write_trajectory,
)


def _traj(instance_id: str = "repo__pkg-1", steps: int = 3, **metadata) -> Trajectory:
    return Trajectory(
        instance_id=instance_id,
        source_format="swe-srl",
        model="expert",
        problem_statement="The parser drops the last line.\n",
        steps=[
            Step(
                thought=f"step {i}",
                action=Action(
                    "str_replace_editor",
                    {"command": "view", "path": "/testbed/a.py", "view_range": [1, i + 2]},
                )
                if i % 2
                else Action("bash", {"command": f"echo {i}"}),
                observation=f"out {i}\r\n",
                duration=0.5 * i,
                raw_action=f"raw {i}",
                reward=None if i else 1.0,
            )
            for i in range(steps)
        ],
        final_patch="diff --git a/a.py b/a.py\n",
        resolved=True,
        metadata=dict(metadata),
    )


def test_write_read_round_trip_keeps_types(tmp_path):
    traj = _traj(trajectory_id="t-1", info={"exit_status": "submitted"})
    path = write_trajectory(traj, tmp_path)
    assert path.name == "t-1.traj.json"
    back = read_trajectory(path)
    assert back == traj
    assert back.steps[1].action.args["view_range"] == [1, 3]
    assert json.loads(path.read_text())["schema_version"] == TRAJECTORY_SCHEMA_VERSION


def test_iter_trajectories_streams_files_dirs_and_jsonl(tmp_path):
    first, second, third = _traj("a__b-1"), _traj("a__b-2", 1), _traj("a__b-3", 0)
    write_trajectory(first, tmp_path / "dir" / "one.json")
    write_trajectory(second, tmp_path / "dir" / "nested" / "two.traj.json")
    (tmp_path / "dir" / "notes.txt").write_text("not a trajectory")
    assert write_jsonl([third, first], tmp_path / "many.jsonl") == 2
    found = list(iter_trajectories([tmp_path / "dir", tmp_path / "many.jsonl"]))
    assert found == [second, first, third, first]
    assert list(iter_trajectories(tmp_path / "many.jsonl")) == [third, first]


def test_trajectory_id_prefers_metadata():
    assert trajectory_id(_traj("x__y-1")) == "x__y-1"
    assert trajectory_id(_traj("x__y-1", trajectory_id="run-7")) == "run-7"


def test_write_to_directory_makes_a_safe_file_name(tmp_path):
    path = write_trajectory(_traj("org/repo#12"), tmp_path)
    assert path.parent == tmp_path and path.name == "org_repo_12.traj.json"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("instance_id"), "instance_id"),
        (lambda d: d.update(steps="many"), "steps"),
        (lambda d: d["steps"][1].pop("action"), "steps[1].action"),
        (lambda d: d["steps"][0]["action"].update(args=[1]), "steps[0].action.args"),
        (lambda d: d.update(schema_version=TRAJECTORY_SCHEMA_VERSION + 1), "schema_version"),
        (lambda d: d.update(metadata=True), "metadata"),  # found by `make fuzz`
        (lambda d: d.update(model=["gpt"]), "model"),
        (lambda d: d.update(resolved="yes"), "resolved"),
        (lambda d: d["steps"][0].update(observation=None), "steps[0].observation"),
        (lambda d: d["steps"][1].update(duration=True), "steps[1].duration"),
        (lambda d: d["steps"][1].update(reward="high"), "steps[1].reward"),
    ],
)
def test_malformed_records_name_file_record_and_field(tmp_path, mutate, field):
    good = _traj().to_dict()
    mutate(good)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_traj().to_dict()) + "\n\n" + json.dumps(good) + "\n")
    with pytest.raises(RecordError) as err:
        list(iter_trajectories(path))
    assert err.value.source == str(path)
    assert err.value.record == "line 3"
    assert err.value.field_name == field
    assert str(path) in str(err.value) and field in str(err.value)


def test_invalid_json_and_missing_paths(tmp_path):
    bad = tmp_path / "bad.traj.json"
    bad.write_text('{"instance_id": ')
    with pytest.raises(RecordError, match="not valid JSON") as err:
        read_trajectory(bad)
    assert err.value.source == str(bad)
    with pytest.raises(RecordError, match="no such file"):
        list(iter_trajectories(tmp_path / "missing"))
