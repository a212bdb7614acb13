"""Per-node readiness (once per node, one builder at a time), the start cap, and orphan collection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine_helpers import INFLECTION, CountingRequirement, inflection_suite, leftovers

from swe_srl.engine.budget import Budget
from swe_srl.engine.node import NodeState, OrphansCollected

HERE = Path(__file__).resolve().parent


def _python(code: str, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(HERE)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)


def test_readiness_is_met_once_per_node_across_worker_processes(tmpdir_private):
    log = tmpdir_private / "met.log"
    code = (
        "from engine_helpers import CountingRequirement\n"
        "from swe_srl.engine.budget import Budget\n"
        "from swe_srl.engine.node import NodeState\n"
        f"NodeState.of('node-a').ensure([CountingRequirement({str(log)!r})], 'run-1', Budget(60))\n"
    )
    procs = [_python(code, tmpdir_private) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert len(log.read_text().splitlines()) == 1  # three workers, one builder
    # another node, or the same node in another run, meets it again
    NodeState.of("node-b").ensure([CountingRequirement(str(log), 0)], "run-1", Budget(60))
    NodeState.of("node-a").ensure([CountingRequirement(str(log), 0)], "run-2", Budget(60))
    assert len(log.read_text().splitlines()) == 3


def test_sandbox_starts_on_a_node_are_capped(tmpdir_private):
    node, cap, running, peak = NodeState.of("capped"), 2, [0], [0]
    lock = threading.Lock()

    def start() -> None:
        with node.start_slot(cap, Budget(60)):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.3)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert peak[0] == cap


def test_orphans_of_a_killed_run_are_collected_by_the_next_runs_readiness(tmpdir_private):
    proc = _python("from engine_helpers import hold_sandbox\nhold_sandbox('killed-run')\n", tmpdir_private)
    assert proc.stdout.readline().strip() == "ready"
    left = leftovers(tmpdir_private, [proc.pid])
    assert any("swe-srl-ws" in item for item in left) and any("leases" in item for item in left)
    assert any("/sys/fs/cgroup" in item for item in left)  # its cgroup(s), still there
    os.kill(proc.pid, signal.SIGKILL)  # what a crash, an OOM kill or a lost node does
    proc.wait(timeout=30)
    note = OrphansCollected().ensure()
    assert note == "collected 1 orphaned sandbox(es)"
    assert leftovers(tmpdir_private, [proc.pid]) == []


def test_an_environment_that_cannot_be_built_is_the_environment_cause_of_its_tasks(tmp_path, tmpdir_private):
    from engine_helpers import results

    from swe_srl.eval.runner import EvalConfig, run_eval

    tasks = inflection_suite(tmp_path, pre_install=["echo 'error: no C compiler' >&2; exit 3"])
    report = run_eval(EvalConfig(tasks=str(tasks), policy="gold", out=tmp_path / "run", test_timeout=60))
    rows = results(tmp_path / "run")
    assert len(rows) == 2 and {(r["status"], r["cause"]) for r in rows} == {("error", "environment")}
    for row in rows:
        assert f"environment {INFLECTION} failed" in row["reason"] and "no C compiler" in row["reason"]
    assert report.infrastructure_errors == {"environment": 2} and report.judged == 0
    assert leftovers(tmpdir_private) == []


def test_envs_build_builds_each_environment_once_per_node(tmp_path):
    from swe_srl.engine.builds import build_environments

    tasks = inflection_suite(tmp_path)
    [(node, result)] = build_environments(str(tasks))  # two tasks, one environment, one node
    assert (result.name, result.tasks, result.ok) == (INFLECTION, 2, True) and node
