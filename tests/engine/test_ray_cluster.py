"""The Ray executor on a real multi-node cluster on this machine: a head node without CPUs and worker
nodes (separate raylets, each with its own CPU and a resource of its own), started by Ray's
``cluster_utils.Cluster``. Sandboxes run on the worker node their task landed on."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest
from engine_helpers import (
    CLI,
    INFLECTION,
    LeaseWatcher,
    ModelServerDouble,
    descendants,
    inflection_suite,
    leftovers,
    private_tmpdir,
    results,
    sleeper_policy,
)

from swe_srl.engine.loop import EngineSettings
from swe_srl.engine.rollout import RolloutConfig, RolloutLog, run_rollout
from swe_srl.engine.telemetry import read_telemetry
from swe_srl.eval.runner import EvalConfig, run_eval
from swe_srl.sandbox.limits import pid_alive
from swe_srl.tasks.loader import read_tasks

try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError:  # the optional extra: mandatory in CI, which installs it
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("Ray is not installed: pip install -e '.[ray]'", allow_module_level=True)

pytestmark = pytest.mark.slow

RAY = EngineSettings(executor="ray", task_memory_gb=0.25)


@pytest.fixture(scope="module")
def cluster():
    with private_tmpdir() as tmp:
        head = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
        workers = [head.add_node(num_cpus=1, resources={f"worker{i}": 1}) for i in range(2)]
        head.wait_for_nodes()
        ray.init(address=head.address, log_to_driver=False, configure_logging=False)
        try:
            yield SimpleNamespace(head=head, workers=workers, tmp=tmp)
        finally:
            ray.shutdown()
            head.shutdown()


def _pids_of(node) -> set[int]:
    """Every process of a Ray node (its raylet, its workers), while it runs."""
    return {
        pid
        for infos in node.all_processes.values()
        for info in infos
        for pid in descendants(info.process.pid)
    }


def _verdicts(out) -> dict[str, tuple[str, dict]]:
    return {r["instance_id"]: (r["status"], r["tests"]) for r in results(out)}


def test_bundled_suite_gives_the_same_verdicts_on_ray_as_locally(cluster, tmp_path):
    local = EvalConfig(tasks="bundled", policy="gold", out=tmp_path / "local", workers=2)
    run_eval(local)
    with LeaseWatcher(cluster.tmp) as watcher:
        report = run_eval(
            EvalConfig(tasks="bundled", policy="gold", out=tmp_path / "ray", workers=2, engine=RAY)
        )
    expected = _verdicts(tmp_path / "local")
    assert len(expected) == len(read_tasks("bundled").tasks) == report.total
    assert _verdicts(tmp_path / "ray") == expected
    telemetry = read_telemetry(tmp_path / "ray")
    assert telemetry["executor"] == "ray" and len(telemetry["nodes"]) == 2  # SPREAD used both workers
    assert telemetry["sandbox_start_seconds"]["count"] >= report.total
    pids = watcher.pids | {p for node in cluster.workers for p in _pids_of(node)}
    assert leftovers(cluster.tmp, pids) == []


def test_a_worker_node_killed_mid_run_leaves_every_task_reported_once(cluster, tmp_path):
    doomed = cluster.head.add_node(num_cpus=1, resources={"doomed": 1})
    cluster.head.wait_for_nodes()
    doomed_pids = _pids_of(doomed)
    ids = [t.instance_id for t in read_tasks("bundled").tasks][:8]
    config = EvalConfig(
        tasks="bundled", policy="gold", out=tmp_path / "run", workers=3, instances=tuple(ids), engine=RAY
    )
    run = threading.Thread(target=run_eval, args=(config,))
    with LeaseWatcher(cluster.tmp) as watcher:
        run.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not watcher.pids & (
            doomed_pids := doomed_pids | _pids_of(doomed)
        ):
            time.sleep(0.05)
        assert watcher.pids & doomed_pids, "no task ever ran on the doomed node"
        cluster.head.remove_node(doomed)  # its raylet and workers die mid-task
        run.join(timeout=300)
    assert not run.is_alive()
    counts = collections.Counter(r["instance_id"] for r in results(tmp_path / "run"))
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}  # each once, none lost
    assert {r["status"] for r in results(tmp_path / "run")} == {"resolved"}  # retried elsewhere
    assert read_telemetry(tmp_path / "run")["retries"]["node_lost"] >= 1
    pids = watcher.pids | doomed_pids | {p for node in cluster.workers for p in _pids_of(node)}
    assert leftovers(cluster.tmp, pids) == []


def test_a_hung_task_is_stopped_by_its_budget_and_reaped_on_its_node(cluster, tmp_path):
    engine = EngineSettings(executor="ray", task_memory_gb=0.25, task_budget=6, backstop_grace=3)
    with ModelServerDouble("hang") as server, LeaseWatcher(cluster.tmp) as watcher:
        began = time.monotonic()
        run_eval(EvalConfig(tasks="sample", policy=server.spec, out=tmp_path / "run", engine=engine))
        seconds = time.monotonic() - began
    [row] = results(tmp_path / "run")
    assert (row["status"], row["cause"]) == ("error", "timeout") and "cancelled" in row["reason"]
    assert seconds < 60
    assert watcher.pids and not any(pid_alive(p) for p in watcher.pids)  # its worker was killed
    assert leftovers(cluster.tmp, watcher.pids) == []


def test_rollout_attempts_follow_each_other_across_the_cluster(cluster, tmp_path):
    config = RolloutConfig(policy="noop", tasks="sample", out=tmp_path, attempts=2, keep="all", engine=RAY)
    report = run_rollout(config)
    assert report.new_attempts == 2 and report.tasks[0].attempts == 2
    assert [(r.attempt, r.status) for r in RolloutLog(tmp_path / "rollout.log").load()] == [
        (0, "unresolved"),
        (1, "unresolved"),
    ]


@pytest.mark.docker
def test_docker_sandboxes_on_the_cluster_leave_no_container(cluster, tmp_path):
    engine = EngineSettings(executor="ray", task_memory_gb=0.25)
    ids = tuple(t.instance_id for t in read_tasks("bundled").tasks[:2])
    with LeaseWatcher(cluster.tmp) as watcher:
        report = run_eval(
            EvalConfig(
                tasks="bundled",
                policy="gold",
                out=tmp_path / "run",
                sandbox="docker",
                workers=2,
                instances=ids,
                engine=engine,
            )
        )
    assert (report.resolved, report.judged) == (2, 2)
    assert watcher.pids and leftovers(cluster.tmp, watcher.pids) == []  # containers included


def test_the_cli_joins_a_running_cluster_by_its_address(cluster, tmp_path):
    out = tmp_path / "run"
    ray_options = ["--executor", "ray", "--ray-address", cluster.head.address, "--task-memory-gb", "0.25"]
    args = [
        CLI,
        "eval",
        "--tasks",
        "sample",
        "--policy",
        "gold",
        "--out",
        str(out),
        "--no-progress",
        *ray_options,
    ]
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(cluster.tmp)}
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in results(out)] == ["resolved"]
    telemetry = json.loads((out / "telemetry.json").read_text())
    assert telemetry["executor"] == "ray" and set(telemetry["nodes"]) <= {n.node_id for n in cluster.workers}


@pytest.mark.docker
def test_images_are_built_on_every_node(cluster):
    from swe_srl.engine.builds import build_images

    [task] = read_tasks("sample").tasks
    images = build_images("sample", engine=EngineSettings(executor="ray", task_memory_gb=0.25))
    assert sorted(i.node for i in images) == sorted(n.node_id for n in cluster.workers)
    assert {(i.instance_id, i.error) for i in images} == {(task.instance_id, "")}
    assert {i.action for i in images} <= {"built", "up-to-date"}


def test_environments_are_built_on_every_node_and_real_tasks_validate_there(cluster, tmp_path):
    from swe_srl.engine.builds import build_environments
    from swe_srl.engine.validate import validate_suite

    tasks = inflection_suite(tmp_path)  # a real PyPI project's environment and two of its tasks
    built = build_environments(str(tasks), engine=RAY)
    assert sorted(node for node, _ in built) == sorted(n.node_id for n in cluster.workers)
    assert {(r.name, r.ok) for _, r in built} == {(INFLECTION, True)}
    checked = validate_suite(str(tasks), "local", engine=dataclasses.replace(RAY, workers=2))
    assert len(checked) == 2 and all(r.valid for r in checked), [r.problems for r in checked]


def test_ctrl_c_twice_cancels_ray_tasks_and_reaps_their_nodes(cluster, tmp_path):
    with LeaseWatcher(cluster.tmp) as watcher:
        ray_options = ["--executor", "ray", "--ray-address", cluster.head.address, "--task-memory-gb", "0.25"]
        args = [CLI, "eval", "--tasks", "bundled", "--policy", sleeper_policy(tmp_path), "--workers", "2",
                "--out", str(tmp_path / "run"), "--no-progress", *ray_options]  # fmt: skip
        env = {**os.environ, "TMPDIR": str(cluster.tmp)}
        proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 120
        while len(watcher.pids) < 2 and time.monotonic() < deadline:  # both workers hold a sandbox
            time.sleep(0.05)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "cancelling 2 running task(s)" in stderr and "every sandbox was reaped" in stderr
    assert len(watcher.pids) == 2 and not any(pid_alive(p) for p in watcher.pids)  # killed workers
    assert leftovers(cluster.tmp, watcher.pids) == []
