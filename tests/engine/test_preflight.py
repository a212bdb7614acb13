"""Options are checked before the first task: one line, a non-zero exit, nothing written; a run folder
keeps its identity, and ``eval`` fails when every task errored."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

import pytest
from engine_helpers import CLI, results

from swe_srl.tasks.loader import read_tasks


def _swe_srl(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--policy", "gld"], "error: --policy gld: unknown policy spec 'gld'"),
        (["--policy", "replay"], "error: --policy replay: policy spec 'replay': replay needs an argument"),
        (["--instances", "swe-srl__durata-1,nope"], "error: --instances: no task nope in sample"),
        (
            ["--policy", "openai:m@http://127.0.0.1:1/v1"],
            "error: --policy openai:m@http://127.0.0.1:1/v1: model server",
        ),
        (["--setting", "orcale"], "error: --setting orcale: expected one of e2e, oracle"),
        (["--tasks", "no-such-suite"], "error: --tasks no-such-suite:"),
        (["--ray-address", "10.0.0.1:6379"], "error: --ray-address is only used with --executor ray"),
        (
            ["--executor", "ray", "--ray-address", "127.0.0.1:1"],
            "error: --ray-address 127.0.0.1:1: nothing answers",
        ),
    ],
)
def test_a_bad_option_is_one_line_and_writes_nothing(tmp_path, option, message):
    out = tmp_path / "run"
    args = {"--tasks": "sample", "--policy": "gold", **dict(zip(option[::2], option[1::2], strict=True))}
    proc = _swe_srl("eval", "--out", str(out), "--no-progress", *[x for kv in args.items() for x in kv])
    assert proc.returncode == 2
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(("option", "value"), [("--sandbox", "dockr"), ("--executor", "rey")])
def test_an_unknown_kind_is_a_usage_error_before_the_run(tmp_path, option, value):
    out = tmp_path / "run"
    proc = _swe_srl("eval", "--tasks", "sample", "--policy", "gold", "--out", str(out), option, value)
    assert proc.returncode == 2 and f"Invalid value for '{option}'" in proc.stderr and not out.exists()


def test_a_missing_sandbox_backend_is_refused_before_the_run(tmp_path):
    env = {**os.environ, "PATH": "/nonexistent"}  # no bubblewrap to be found
    out = tmp_path / "run"
    proc = _swe_srl("eval", "--tasks", "sample", "--policy", "gold", "--out", str(out), env=env)
    assert proc.returncode == 2 and "needs bubblewrap" in proc.stderr and not out.exists()


def test_resuming_with_other_options_is_refused_unless_forced(tmp_path):
    out = tmp_path / "run"
    base = ["eval", "--tasks", "sample", "--out", str(out), "--no-progress"]
    assert _swe_srl(*base, "--policy", "noop").returncode == 0
    first = (out / "results.jsonl").read_text()
    refused = _swe_srl(*base, "--policy", "gold")
    assert refused.returncode == 2
    assert "holds a different run (policy: 'noop' then, 'gold' now)" in refused.stderr
    assert (out / "results.jsonl").read_text() == first  # untouched
    assert _swe_srl(*base, "--policy", "noop", "--setting", "oracle").returncode == 2
    forced = _swe_srl(*base, "--policy", "gold", "--force-new")
    assert forced.returncode == 0, forced.stderr
    assert [r["status"] for r in results(out)] == ["resolved"]
    [aside] = (out / "superseded").iterdir()
    assert (aside / "results.jsonl").read_text() == first  # the old run moved aside, not deleted
    assert json.loads((out / "run.json").read_text())["identity"]["policy"] == "gold"
    again = _swe_srl(*base, "--policy", "gold")  # the same options resume
    assert again.returncode == 0 and len(results(out)) == 1


def test_eval_fails_when_every_task_errored(tmp_path):
    task = read_tasks("sample").tasks[0]
    rows = [dataclasses.replace(task, instance_id=f"gone-{i}", repo_dir="/nonexistent") for i in range(2)]
    suite = tmp_path / "tasks.jsonl"
    suite.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))
    proc = _swe_srl(
        "eval", "--tasks", str(suite), "--policy", "gold", "--out", str(tmp_path / "run"), "--no-progress"
    )
    assert proc.returncode == 1 and "every task ended in an error" in proc.stderr
    assert {(r["status"], r["cause"]) for r in results(tmp_path / "run")} == {("error", "environment")}


def test_rollout_and_validate_check_their_options_first(tmp_path):
    out = tmp_path / "r"
    proc = _swe_srl("rollout", "--policy", "gld", "--tasks", "sample", "--out", str(out))
    assert proc.returncode == 2 and proc.stderr.startswith("error: --policy gld: unknown policy spec")
    assert not out.exists()
    proc = _swe_srl(
        "tasks", "validate", "sample", "--instance", "nope", "--output", str(tmp_path / "v.jsonl")
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: --instances: no task nope in sample")
    assert not (tmp_path / "v.jsonl").exists()
    assert _swe_srl("rollout", "--policy", "noop", "--tasks", "sample", "--out", str(out)).returncode == 0
    refused = _swe_srl("rollout", "--policy", "expert", "--tasks", "sample", "--out", str(out))
    assert refused.returncode == 2 and "holds a different run" in refused.stderr
    assert not list(out.glob("*.json"))  # the run's own records never read as trajectories
