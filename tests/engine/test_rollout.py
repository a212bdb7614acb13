"""Rejection sampling (``swe-srl rollout``) and the shipped expert trajectories.

Episodes run in the real local sandbox and are graded by the real grader; the failing policies
are real scripted policies (``noop`` and one that makes a wrong edit), not doubles.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.engine.rollout import LOG_NAME, RolloutConfig, RolloutLog, run_rollout, task_fingerprint
from swe_srl.policy.scripted import ScriptPolicy
from swe_srl.records import Action
from swe_srl.tasks import load_tasks
from swe_srl.trajectories.io import iter_trajectories, read_trajectory

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "trajectories"
SAMPLE_ID = "swe-srl__durata-1"


class WrongFix:
    """The source of a real scripted policy whose edit changes the code but does not fix the bug."""

    spec = "wrong-fix"

    def preflight(self) -> None:
        return None

    def for_task(self, task):
        edit = Action(
            "str_replace_editor",
            {
                "command": "str_replace",
                "path": "/testbed/durata/parser.py",
                "old_str": "def parse_duration(text):",
                "new_str": "def parse_duration(text):  # parses a duration",
            },
        )
        return ScriptPolicy([edit], name="wrong-fix")

    def close(self) -> None:
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def test_rollout_rejects_unresolved_attempts(tmp_path):
    config = RolloutConfig(policy="wrong-fix", tasks="sample", out=tmp_path, attempts=2)
    report = run_rollout(config, source=WrongFix())
    [task] = report.tasks
    assert (task.attempts, task.resolved, task.kept) == (2, False, [])
    assert report.resolved == 0 and report.new_attempts == 2
    assert not list(tmp_path.glob("*.traj.json"))
    records = RolloutLog(tmp_path / LOG_NAME).load()
    assert [(r.attempt, r.status, r.resolved) for r in records] == [
        (0, "unresolved", False),
        (1, "unresolved", False),
    ]


def test_keep_all_writes_failed_attempts_marked_unresolved(tmp_path):
    report = run_rollout(RolloutConfig(policy="noop", tasks="sample", out=tmp_path, attempts=1, keep="all"))
    assert report.tasks[0].kept == [f"{SAMPLE_ID}.attempt0.traj.json"]
    traj = read_trajectory(tmp_path / f"{SAMPLE_ID}.attempt0.traj.json")
    assert traj.resolved is False and traj.final_patch == ""


def test_an_attempt_whose_infrastructure_failed_is_masked_and_retried(tmp_path):
    import dataclasses

    task = load_tasks("sample")[0]
    suite, out = tmp_path / "tasks.jsonl", tmp_path / "out"

    def write(lost_repo: str) -> None:
        rows = [task, dataclasses.replace(task, instance_id="lost", repo_dir=lost_repo)]
        suite.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))

    write(str(tmp_path / "not-yet"))  # the lost task's repository is missing: an infrastructure error
    config = RolloutConfig(policy="noop", tasks=str(suite), out=out, keep="all")
    report = run_rollout(config)
    by_id = {t.instance_id: t for t in report.tasks}
    assert (by_id["lost"].masked, by_id["lost"].kept) == (1, [])  # masked: never kept as a failure
    assert (by_id[SAMPLE_ID].masked, by_id[SAMPLE_ID].kept) == (0, [f"{SAMPLE_ID}.attempt0.traj.json"])
    [lost] = [r for r in RolloutLog(out / LOG_NAME).load() if r.instance_id == "lost"]
    assert (lost.status, lost.cause, lost.kept) == ("error", "environment", "")
    write(task.repo_dir)  # the cause is gone
    again = run_rollout(dataclasses.replace(config, retry_errors=True))
    assert again.new_attempts == 1  # only the masked attempt ran again
    assert read_trajectory(out / "lost.attempt0.traj.json").metadata["reward"] == 0.0  # now scored


def test_rollout_keeps_the_resolved_expert_trajectory_and_resumes(tmp_path):
    config = RolloutConfig(policy="expert", tasks="sample", out=tmp_path, attempts=3)
    report = run_rollout(config)
    [task] = report.tasks
    assert (task.attempts, task.resolved) == (1, True)  # sampling stops at the first resolved attempt
    kept = tmp_path / f"{SAMPLE_ID}.traj.json"
    traj = read_trajectory(kept)
    assert traj.resolved is True and traj.metadata["eval_status"] == "resolved"
    assert traj.metadata["policy"] == "expert" and traj.steps[-1].action.tool == "submit"
    stamp = kept.stat().st_mtime_ns
    again = run_rollout(config)
    assert again.new_attempts == 0 and again.tasks[0].resolved
    assert kept.stat().st_mtime_ns == stamp
    assert len(RolloutLog(tmp_path / LOG_NAME).load()) == 1
    # the output directory reads as a trajectory collection (the log is not taken for one)
    assert [t.instance_id for t in iter_trajectories(tmp_path)] == [SAMPLE_ID]


def test_rerun_continues_after_recorded_attempts(tmp_path):
    config = RolloutConfig(policy="noop", tasks="sample", out=tmp_path, attempts=1)
    run_rollout(config)
    with (tmp_path / LOG_NAME).open("a") as handle:
        handle.write('{"instance_id": "cut sho')  # a crash mid-line: ignored, not fatal
    more = run_rollout(RolloutConfig(policy="noop", tasks="sample", out=tmp_path, attempts=3))
    assert more.new_attempts == 2 and more.tasks[0].attempts == 3
    attempts = [r.attempt for r in RolloutLog(tmp_path / LOG_NAME).load()]
    assert attempts == [0, 1, 2]


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="keep"):
        run_rollout(RolloutConfig(policy="noop", tasks="sample", out=tmp_path, keep="some"))
    with pytest.raises(ValueError, match="unknown policy spec"):
        run_rollout(RolloutConfig(policy="oracle-of-delphi", tasks="sample", out=tmp_path))
    with pytest.raises(ValueError, match="no task"):
        run_rollout(RolloutConfig(policy="noop", tasks="sample", out=tmp_path, instances=("nope",)))


def test_rollout_cli_prints_a_summary_and_writes_json(tmp_path):
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(
        app,
        [
            "rollout",
            "--policy",
            "noop",
            "--tasks",
            "sample",
            "--out",
            str(tmp_path / "out"),
            "--json",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0/1 tasks resolved" in result.output
    data = json.loads(summary.read_text())
    assert data["resolved"] == 0 and data["per_task"][0]["instance_id"] == SAMPLE_ID


# ---------------------------------------------------------------------------------------------
# The shipped expert trajectories (reads the files only)


@pytest.mark.parametrize("suite", ["bundled", "sample"])
def test_every_task_has_a_verified_expert_trajectory(suite):
    trajectories = {t.instance_id: t for t in iter_trajectories(SHIPPED / suite)}
    tasks = load_tasks(suite)
    assert set(trajectories) == {t.instance_id for t in tasks}
    for task in tasks:
        traj = trajectories[task.instance_id]
        assert traj.resolved is True and traj.metadata["eval_status"] == "resolved", task.instance_id
        assert traj.model == "expert" and traj.steps[-1].action.tool == "submit"
        assert traj.final_patch.strip() and "reproduce" not in traj.final_patch
        assert traj.problem_statement == task.problem_statement
        # made for this version of the task (else regenerate: see swe_srl/engine/rollout.py)
        assert traj.metadata["task_fingerprint"] == task_fingerprint(task), task.instance_id
    assert statistics.median(len(t.steps) for t in trajectories.values()) >= 8


def test_shipped_trajectories_build_step_instances():
    from swe_srl.trajectories.importers import import_paths
    from swe_srl.trajectories.steps import StepOptions, step_instances

    trajectories = list(import_paths([SHIPPED / "bundled"]))
    instances = [i for t in trajectories for i in step_instances(t, StepOptions())]
    assert len(instances) == sum(len(t.steps) for t in trajectories)
    assert all(i.target.startswith("<function=") and i.thought for i in instances)
