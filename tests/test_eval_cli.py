"""``swe-srl eval`` end to end: run files, faults, resume after SIGKILL, local vs Docker."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swe_srl.cli import app
from swe_srl.tasks import load_tasks

HANG_TEST = (
    "diff --git a/tests/test_issue_1.py b/tests/test_issue_1.py\nnew file mode 100644\n"
    "--- /dev/null\n+++ b/tests/test_issue_1.py\n@@ -0,0 +1,3 @@\n"
    "+def test_negative_compound_duration():\n+    while True:\n+        pass\n"
)


def _sample():
    return load_tasks("sample")[0]


def _row(task, instance_id: str, **changes) -> str:
    return json.dumps(dataclasses.replace(task, instance_id=instance_id, **changes).to_dict())


def _suite(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def _eval(*args: str) -> None:
    result = CliRunner().invoke(app, ["eval", "--no-progress", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def _results(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(("policy", "rate"), [("gold", 1.0), ("noop", 0.0)])
def test_scripted_policies_score_as_expected(tmp_path, policy, rate):
    out = tmp_path / policy
    _eval("--tasks", "sample", "--policy", policy, "--out", str(out))
    report = json.loads((out / "report.json").read_text())
    assert report["resolve_rate"] == rate and report["total"] == 1
    lo, hi = report["ci95"]
    assert lo <= rate <= hi
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["model_name_or_path"] for p in predictions] == [policy]
    assert bool(predictions[0]["model_patch"]) == (policy == "gold")
    trajectory = json.loads((out / "trajectories" / "swe-srl__durata-1.traj.json").read_text())
    assert trajectory["steps"][-1]["action"]["tool"] == "submit"
    assert trajectory["resolved"] == (policy == "gold")


def test_oracle_setting(tmp_path):
    _eval("--tasks", "sample", "--policy", "gold", "--setting", "oracle", "--out", str(tmp_path / "o"))
    assert json.loads((tmp_path / "o" / "report.json").read_text())["resolved"] == 1


def test_faulty_tasks_are_reported_and_the_run_goes_on(tmp_path):
    task = _sample()
    rows = [
        _row(task, "good-1"),
        '{"instance_id": "torn", "repo": ',  # not JSON
        json.dumps({"instance_id": "no-statement", "repo": "x/y"}),
        _row(
            task,
            "hangs",
            test_patch=HANG_TEST,
            FAIL_TO_PASS=("tests/test_issue_1.py::test_negative_compound_duration",),
        ),
        _row(task, "gold-does-not-apply", patch=task.patch.replace("stripped, text", "something, else")),
        _row(task, "missing-repo", repo_dir="/nonexistent/repo"),
    ]
    out = tmp_path / "out"
    _eval("--tasks", str(_suite(tmp_path / "tasks.jsonl", rows)), "--policy", "gold", "--out", str(out),
          "--workers", "2", "--test-timeout", "3")  # fmt: skip
    by_id = {r["instance_id"]: r for r in _results(out)}
    assert by_id["good-1"]["status"] == "resolved"
    assert (
        by_id["tasks.jsonl:line2"]["status"] == "error"
        and "not valid JSON" in by_id["tasks.jsonl:line2"]["reason"]
    )
    assert (
        by_id["no-statement"]["status"] == "error" and "problem_statement" in by_id["no-statement"]["reason"]
    )
    assert (by_id["hangs"]["status"], by_id["hangs"]["reason"]) == ("error", "tests timed out after 3s")
    assert by_id["gold-does-not-apply"]["status"] == "unresolved"
    assert by_id["missing-repo"]["status"] == "error" and "repo_dir" in by_id["missing-repo"]["reason"]
    report = json.loads((out / "report.json").read_text())
    assert report["total"] == 6 and report["resolved"] == 1
    assert set(report["errors"]) == {"tasks.jsonl:line2", "no-statement", "hangs", "missing-repo"}


def test_rerun_skips_errors_unless_asked_to_retry_them(tmp_path):
    task = _sample()
    suite, out = tmp_path / "tasks.jsonl", tmp_path / "out"
    args = ["--tasks", str(suite), "--policy", "gold", "--out", str(out)]
    _suite(suite, [_row(task, "good"), _row(task, "flaky", repo_dir=str(tmp_path / "not-yet"))])
    _eval(*args)
    assert {r["instance_id"]: r["status"] for r in _results(out)} == {"good": "resolved", "flaky": "error"}
    _suite(suite, [_row(task, "good"), _row(task, "flaky")])  # the cause of the error is gone
    _eval(*args)
    assert len(_results(out)) == 2  # a plain rerun keeps the recorded error
    _eval(*args, "--retry-errors")
    lines = _results(out)
    assert [(r["instance_id"], r["status"]) for r in lines[2:]] == [("flaky", "resolved")]  # only it ran
    report = json.loads((out / "report.json").read_text())
    assert (report["total"], report["resolved"], report["errors"]) == (2, 2, {})
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 2


def test_sigkill_mid_run_then_rerun_reports_every_task_once(tmp_path):
    task = _sample()
    ids = [f"task-{i}" for i in range(4)]
    suite = _suite(tmp_path / "tasks.jsonl", [_row(task, i) for i in ids])
    out = tmp_path / "out"
    argv = [str(Path(sys.executable).with_name("swe-srl")), "eval", "--tasks", str(suite), "--policy", "gold",
            "--out", str(out), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (results.exists() and results.read_text().count("\n") >= 1):
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = results.read_text().count("\n")
    assert 1 <= finished < len(ids), "the kill must land mid-run"
    with results.open("a") as handle:  # what a crash in the middle of a write leaves behind
        handle.write('{"instance_id": "task-3", "status": "reso')
    subprocess.run(argv, check=True, capture_output=True, timeout=300)
    lines = _results(out)
    assert sorted(r["instance_id"] for r in lines) == ids
    report = json.loads((out / "report.json").read_text())
    assert sorted(t["instance_id"] for t in report["tasks"]) == ids and report["resolved"] == 4
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 4


def _tests_and_status(out: Path) -> tuple[str, dict]:
    (row,) = _results(out)
    return row["status"], row["tests"]


@pytest.mark.docker
@pytest.mark.parametrize("policy", ["gold", "noop"])
def test_local_and_docker_give_identical_results(tmp_path, policy):
    for kind in ("local", "docker"):
        _eval("--tasks", "sample", "--policy", policy, "--sandbox", kind, "--out", str(tmp_path / kind))
    assert _tests_and_status(tmp_path / "local") == _tests_and_status(tmp_path / "docker")
    local = json.loads((tmp_path / "local" / "predictions.jsonl").read_text())
    docker = json.loads((tmp_path / "docker" / "predictions.jsonl").read_text())
    assert local["model_patch"] == docker["model_patch"]


@pytest.mark.docker
def test_images_build_command_tags_and_exports(tmp_path):
    export = tmp_path / "dataset.jsonl"
    result = CliRunner().invoke(app, ["images", "build", "sample", "--export", str(export)])
    assert result.exit_code == 0, result.output
    image = "swe-srl/sample.swe-srl__durata-1:latest"
    assert image in result.output
    assert subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0
    (row,) = [json.loads(line) for line in export.read_text().splitlines()]
    assert row["image"] == image and row["instance_id"] == "swe-srl__durata-1"


def test_results_log_skips_a_torn_last_line_and_rejects_damage_elsewhere(tmp_path):
    from swe_srl.eval.results import ResultsLog
    from swe_srl.records import EvalResult, RecordError

    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(EvalResult("a", "resolved", True))
    with log.path.open("a") as handle:
        handle.write('{"instance_id": "b", "sta')
    assert list(log.load()) == ["a"]
    log.append(EvalResult("c", "error", False, reason="boom"))
    assert list(log.load()) == ["a", "c"]
    log.path.write_text('{"instance_id": "a", "status": "resolved", "resolved": true}\nnot json\n{}\n')
    with pytest.raises(RecordError, match="line 2"):
        log.load()


@pytest.mark.slow
def test_eval_shows_the_model_the_context_its_options_ask_for(tmp_path, tiny_dir):
    """``--window``/``--obs-budget`` (as ``steps build`` cut the training data) reach the prompts."""
    runs = {"default": tmp_path / "default", "short": tmp_path / "short"}
    common = ["--tasks", "sample", "--policy", f"hf:{tiny_dir}", "--max-steps", "3", "--max-tokens", "8"]
    _eval(*common, "--out", str(runs["default"]))
    _eval(*common, "--out", str(runs["short"]), "--window", "0", "--obs-budget", "0")

    def prompt_tokens(run: Path) -> list[int]:
        (traj,) = (run / "trajectories").glob("*.traj.json")
        steps = json.loads(traj.read_text())["steps"]
        return [s["metadata"]["model"]["prompt_tokens"] for s in steps]

    default, short = prompt_tokens(runs["default"]), prompt_tokens(runs["short"])
    assert len(default) == len(short) == 3 and default[0] == short[0]  # nothing to cut before step 1
    assert short[2] < default[2]  # earlier rounds and their observations left out
    assert json.loads((runs["short"] / "run.json").read_text())["identity"]["context"]["window"] == 0
    resumed = CliRunner().invoke(app, ["eval", "--no-progress", *common, "--out", str(runs["short"])])
    assert resumed.exit_code == 2 and "context" in resumed.output  # another context is another run


@pytest.mark.slow
@pytest.mark.parametrize("command", ["eval", "rollout"])
def test_max_in_flight_caps_the_model_requests_of_a_run(tmp_path, tiny_dir, monkeypatch, command):
    """``--max-in-flight 1``: however many episodes run, one request at a time reaches the server."""
    import threading

    from swe_srl.policy.client import ChatClient

    clients, lock, now, peak = [], threading.Lock(), [0], [0]
    post_init, request = ChatClient.__post_init__, ChatClient._request

    def record(self):
        post_init(self)
        clients.append(self)

    def counted(self, *args, **kwargs):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            return request(self, *args, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(ChatClient, "__post_init__", record)
    monkeypatch.setattr(ChatClient, "_request", counted)
    args = ["--tasks", "sample", "--policy", f"hf:{tiny_dir}", "--max-steps", "2", "--workers", "3"]
    args += ["--out", str(tmp_path / "run"), "--max-in-flight", "1"]
    if command == "eval":
        args += ["--no-progress", "--max-tokens", "8"]
    result = CliRunner().invoke(app, [command, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert clients and all(c.max_concurrency == 1 for c in clients)
    assert peak[0] == 1


def test_a_run_writing_to_a_file_logs_one_line_per_finished_task(tmp_path):
    """A batch job's log has no terminal for the progress bar: each finished task is a line of its own."""
    swe_srl = Path(sys.executable).with_name("swe-srl")
    with open(tmp_path / "job.log", "w") as log:
        done = subprocess.run(
            [str(swe_srl), "eval", "--tasks", "sample", "--policy", "gold", "--out", str(tmp_path / "run")],
            stdout=log, stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("eval ")]
    assert len(lines) == 1 and lines[0].endswith(" swe-srl__durata-1: resolved"), done.stderr
    assert lines[0].split()[1] == "1/1"


def test_every_command_selects_tasks_the_same_way(tmp_path):
    """``-i A``, ``--instance A``, ``--instances A,B``: one option on eval, rollout, validate, builds."""
    from swe_srl.cli.options import instance_ids

    assert instance_ids(["a", "b,c", " c , d ", ""]) == ("a", "b", "c", "d")
    ids = [t.instance_id for t in load_tasks("bundled")[:3]]
    _eval("--tasks", "bundled", "--policy", "gold", "--out", str(tmp_path / "run"),
          "-i", ids[0], "--instances", f"{ids[1]},{ids[2]}", "--instance", ids[0])  # fmt: skip
    assert sorted(r["instance_id"] for r in _results(tmp_path / "run")) == sorted(ids)
    import typer.main

    root = typer.main.get_command(app)
    for path in (["eval"], ["rollout"], ["images", "build"], ["tasks", "validate"], ["envs", "build"]):
        command = root
        for name in path:
            command = command.commands[name]
        options = {opt for param in command.params for opt in param.opts}
        assert {"-i", "--instance", "--instances"} <= options, path
