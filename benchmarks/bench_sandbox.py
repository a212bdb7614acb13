"""Sandbox step and reset latency, each against a baseline measured in the same run.

* local step (persistent shell inside one bwrap)  vs  one ``bwrap`` spawn per command
* docker step (persistent shell on an attached exec)  vs  ``exec_run`` per command and ``docker exec`` CLI
* reset (git in place, both backends)  vs  re-creating the container (remove + create + start + copy repo)

Targets: local step p50 <= 5 ms; docker step p50 <= 1/7 of exec-per-command; reset <= 1/10 of re-creation.
Usage: ``python benchmarks/bench_sandbox.py [--steps N] [--resets N]``; writes
``benchmarks/results/bench_sandbox.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from sandbox_cases import make_tiny_task  # noqa: E402

from swe_srl.sandbox import make_sandbox  # noqa: E402
from swe_srl.sandbox.docker_backend import _INIT, BASE_IMAGE  # noqa: E402
from swe_srl.sandbox.local import bwrap_argv  # noqa: E402
from swe_srl.sandbox.shell import BASE_ENV  # noqa: E402
from swe_srl.sandbox.workspace import prepare_base_repo, repo_tarball  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_sandbox.json"


def _stats(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(0.95 * len(samples)))],
        "n": len(samples),
    }


def timed(fns: dict[str, Callable[[], object]], n: int, warmup: int = 3) -> dict[str, dict]:
    """Time several functions round-robin, so load from other work hits each of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(n):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: _stats(values) for name, values in samples.items()}


def bench_local(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    out = {}
    with make_sandbox("local", task, cache_root=cache) as box:
        argv = bwrap_argv(box.workspace, box.root / "gitconfig", BASE_ENV)
        spawn = [*argv[: -len(["bash", "--noprofile", "--norc", "-s"])], "bash", "-c", "true"]
        out |= timed(
            {
                "local step (persistent shell)": lambda: box.run("true"),
                "local step baseline: bwrap spawn per command": lambda: subprocess.run(
                    spawn, check=True, env={}
                ),
            },
            steps,
        )

        out["local reset (git in place)"] = _timed_inner(lambda: _dirty_reset(box), resets)
    return out


def _dirty_reset(box) -> float:
    """Dirty the tree, then time ``reset()`` alone."""
    box.run("echo x >> README.md; touch new.txt")
    started = time.perf_counter()
    box.reset()
    return time.perf_counter() - started


def _timed_inner(fn: Callable[[], float], n: int) -> dict[str, float]:
    """For functions that time their own critical section (dirtying the tree is excluded)."""
    fn()
    return _stats([fn() * 1000 for _ in range(n)])


def bench_docker(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    out = {}
    with make_sandbox("docker", task, cache_root=cache) as box:
        container = box.container
        out |= timed(
            {
                "docker step (persistent shell)": lambda: box.run("true"),
                "docker step baseline: exec_run per command": lambda: container.exec_run(
                    ["bash", "-c", "true"], workdir="/testbed"
                ),
                "docker step baseline: docker exec CLI": lambda: subprocess.run(
                    ["docker", "exec", container.id, "bash", "-c", "true"], check=True
                ),
            },
            steps,
        )

        out["docker reset (git in place)"] = _timed_inner(lambda: _dirty_reset(box), resets)
        client = box.client
    tar = repo_tarball(prepare_base_repo(task, cache)).read_bytes()
    holder: list = []

    def recreate():
        if holder:
            holder.pop().remove(force=True)
        c = client.containers.create(
            BASE_IMAGE, command=_INIT, network_mode="none", labels={"swe-srl.sandbox": "1"}
        )
        c.start()
        c.put_archive("/", tar)
        holder.append(c)

    out |= timed({"reset baseline: container re-creation": recreate}, max(resets // 2, 5), warmup=1)
    for c in holder:
        c.remove(force=True)
    return out


def ratios(results: dict[str, dict]) -> dict[str, float]:
    p = {k: v["p50_ms"] for k, v in results.items()}
    r = {}
    if "local step (persistent shell)" in p:
        r["local step vs bwrap spawn"] = (
            p["local step (persistent shell)"] / p["local step baseline: bwrap spawn per command"]
        )
    if "docker step (persistent shell)" in p:
        d = p["docker step (persistent shell)"]
        r["docker step vs exec_run"] = d / p["docker step baseline: exec_run per command"]
        r["docker step vs docker exec CLI"] = d / p["docker step baseline: docker exec CLI"]
        recreate = p["reset baseline: container re-creation"]
        r["docker reset vs re-creation"] = p["docker reset (git in place)"] / recreate
        r["local reset vs re-creation"] = p["local reset (git in place)"] / recreate
    return r


def targets(results: dict[str, dict], r: dict[str, float]) -> dict[str, bool]:
    t = {"local step p50 <= 5 ms": results["local step (persistent shell)"]["p50_ms"] <= 5.0}
    if "docker step vs exec_run" in r:
        t["docker step <= 1/7 exec_run"] = r["docker step vs exec_run"] <= 1 / 7
        t["docker reset <= 1/10 re-creation"] = r["docker reset vs re-creation"] <= 0.1
        t["local reset <= 1/10 re-creation"] = r["local reset vs re-creation"] <= 0.1
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--resets", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        task = make_tiny_task(Path(tmp))
        cache = Path(tmp) / "cache"
        results = bench_local(task, cache, args.steps, args.resets)
        if not args.no_docker:
            results |= bench_docker(task, cache, args.steps, args.resets)
    r = ratios(results)
    t = targets(results, r)
    load = os.getloadavg()  # other work on the machine inflates every figure; ratios hold better
    table = Table(title=f"sandbox latency (ms); load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    for col in ("measurement", "p50", "p95", "n"):
        table.add_column(col)
    for name, v in results.items():
        table.add_row(name, f"{v['p50_ms']:.2f}", f"{v['p95_ms']:.2f}", str(v["n"]))
    for name, value in r.items():
        table.add_row(f"ratio: {name}", f"{value:.3f}", "", "")
    for name, ok in t.items():
        table.add_row(f"target: {name}", "met" if ok else "MISSED", "", "")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"results": results, "ratios": r, "targets": t, "loadavg": load, "cpus": os.cpu_count()}, indent=2
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
