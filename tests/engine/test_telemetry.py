"""``telemetry.json`` in every run folder; ``swe-srl report`` shows it with the infrastructure errors."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest
from engine_helpers import CLI, results

from swe_srl.engine.jobs import JobResult, TaskTimings
from swe_srl.engine.telemetry import Telemetry, distribution, read_telemetry, write_telemetry
from swe_srl.eval.runner import EvalConfig, run_eval
from swe_srl.tasks.loader import read_tasks


def test_distributions_use_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert distribution(values) == {
        "count": 100,
        "mean": 50.5,
        "p50": 50.0,
        "p90": 90.0,
        "p99": 99.0,
        "max": 100.0,
    }
    assert distribution([]) == {"count": 0}


def test_telemetry_counts_causes_retries_and_tokens():
    telemetry = Telemetry("ray", 4)
    usage = {"completion_tokens": 300, "generation_seconds": 2.0}
    timings = TaskTimings(
        total=10.0, sandbox_starts=(0.5, 0.7), phases={"agent": 6.0, "grade": 3.0}, usage=usage
    )
    telemetry.add(JobResult("a", node="n1", timings=timings), "")
    telemetry.add(JobResult("b", cause="sandbox", node="n2", timings=TaskTimings(total=1.0)), "sandbox")
    telemetry.retried("node_lost")
    summary = telemetry.summary()
    assert summary["tasks"] == 2 and summary["nodes"] == {"n1": 1, "n2": 1}
    assert summary["infrastructure_errors"] == {"total": 1, "rate": 0.5, "by_cause": {"sandbox": 1}}
    assert summary["sandbox_start_seconds"]["count"] == 2 and summary["phase_seconds"]["grade"]["p50"] == 3.0
    assert summary["retries"] == {"node_lost": 1} and summary["tokens_per_second"] == 150.0


def test_a_resumed_run_keeps_the_earlier_invocations(tmp_path):
    write_telemetry(tmp_path, {"tasks": 3})
    write_telemetry(tmp_path, {"tasks": 2})
    assert read_telemetry(tmp_path) == {"tasks": 2, "history": [{"tasks": 3}]}


def test_every_eval_run_folder_has_telemetry_and_report_shows_it(tmp_path):
    task = read_tasks("sample").tasks[0]
    rows = [task, dataclasses.replace(task, instance_id="no-repo", repo_dir=str(tmp_path / "missing"))]
    suite = tmp_path / "tasks.jsonl"
    suite.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))
    out = tmp_path / "run"
    report = run_eval(EvalConfig(tasks=str(suite), policy="gold", out=out, workers=2))
    assert (report.judged, report.resolved, report.infrastructure_errors) == (1, 1, {"environment": 1})
    telemetry = read_telemetry(out)
    assert telemetry["tasks"] == 2 and telemetry["executor"] == "local" and telemetry["tasks_per_hour"] > 0
    assert telemetry["infrastructure_errors"]["by_cause"] == {"environment": 1}
    assert telemetry["sandbox_start_seconds"]["count"] == 2  # the agent's sandbox and the grader's
    assert {"agent", "grade"} <= set(telemetry["phase_seconds"])
    shown = subprocess.run([CLI, "report", str(out)], capture_output=True, text=True, env={"COLUMNS": "250"})
    assert shown.returncode == 0, shown.stderr
    assert "Throughput (latest invocation)" in shown.stdout and "50.0% (environment 1)" in shown.stdout
    assert "local, 1 node(s)" in shown.stdout and "1/1" in shown.stdout  # resolved over the judged tasks
    write_telemetry(out, {"tasks": 0})  # a rerun's invocation goes on top of the history
    assert read_telemetry(out)["history"][0]["tasks"] == 2


@pytest.mark.slow
def test_tokens_per_second_of_a_served_policy(tmp_path, tiny_dir):
    # hf:TINY: the run starts a real transformers serve of the tiny model, as it would a checkpoint.
    config = EvalConfig(
        tasks="sample", policy=f"hf:{tiny_dir}", out=tmp_path / "run", max_steps=2, max_tokens=8
    )
    run_eval(config)
    telemetry = read_telemetry(tmp_path / "run")
    assert 0 < telemetry["completion_tokens"] <= 2 * 8 and telemetry["tokens_per_second"] > 0
    [row] = results(tmp_path / "run")
    assert row["status"] == "unresolved" and row["cause"] == ""  # the random model's replies: judged


def test_a_validation_run_folder_has_telemetry_too(tmp_path):
    from swe_srl.engine.validate import validate_suite

    [checked] = validate_suite("sample", run_dir=tmp_path / "run", log_dir=tmp_path / "run" / "logs")
    telemetry = read_telemetry(tmp_path / "run")
    assert checked.valid and telemetry["tasks"] == 1 and telemetry["sandbox_start_seconds"]["count"] >= 1
