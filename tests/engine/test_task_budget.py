"""One wall budget per task: a task past it is stopped, recorded as ``timeout`` and its sandbox reaped."""

from __future__ import annotations

import time

from engine_helpers import ModelServerDouble, leftovers, results, sleeper_policy

from swe_srl.engine.loop import EngineSettings
from swe_srl.eval.runner import EvalConfig, run_eval


def _eval(tmp_path, policy: str, **engine) -> tuple[dict, float]:
    config = EvalConfig(
        tasks="sample", policy=policy, out=tmp_path / "run", test_timeout=5, engine=EngineSettings(**engine)
    )
    began = time.monotonic()
    report = run_eval(config)
    assert report.total == 1
    [row] = results(tmp_path / "run")
    return row, time.monotonic() - began


def test_a_command_running_past_the_budget_is_cut_and_reaped(tmp_path, tmpdir_private):
    policy = sleeper_policy(tmp_path)  # the agent's first command sleeps for ten minutes
    row, seconds = _eval(tmp_path, policy, task_budget=8)
    assert (row["status"], row["cause"]) == ("error", "timeout")
    assert "task budget of 8s ran out" in row["reason"]
    assert seconds < 40
    assert leftovers(tmpdir_private) == []


def test_a_hung_model_server_is_stopped_by_the_budget(tmp_path, tmpdir_private):
    with ModelServerDouble("hang") as server:  # the policy's request never returns
        row, seconds = _eval(tmp_path, server.spec, task_budget=6, backstop_grace=3)
        assert (row["status"], row["cause"]) == ("error", "timeout")
        assert "did not stop and was cancelled" in row["reason"]
        assert seconds < 30
        assert leftovers(tmpdir_private) == []  # reaped while the task still hangs
