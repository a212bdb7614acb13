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


def timed(fn: Callable[[], object], n: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(0.95 * len(samples)))],
        "n": n,
    }


def bench_local(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    out = {}
    with make_sandbox("local", task, cache_root=cache) as box:
        out["local step (persistent shell)"] = timed(lambda: box.run("true"), steps)
        argv = bwrap_argv(box.workspace, box.root / "gitconfig", BASE_ENV)
        spawn = [*argv[: -len(["bash", "--noprofile", "--norc", "-s"])], "bash", "-c", "true"]
        out["local step baseline: bwrap spawn per command"] = timed(
            lambda: subprocess.run(spawn, check=True, env={}), steps
        )

        def dirty_reset():
            box.run("echo x >> README.md; touch new.txt")
            started = time.perf_counter()
            box.reset()
            return time.perf_counter() - started

        out["local reset (git in place)"] = _timed_inner(dirty_reset, resets)
    return out


def _timed_inner(fn: Callable[[], float], n: int) -> dict[str, float]:
    """Like ``timed`` for functions that time their own critical section (dirtying is excluded)."""
    fn()
    samples = sorted(fn() * 1000 for _ in range(n))
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (n - 1))], "n": n}


def bench_docker(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    out = {}
    with make_sandbox("docker", task, cache_root=cache) as box:
        out["docker step (persistent shell)"] = timed(lambda: box.run("true"), steps)
        container = box.container
        out["docker step baseline: exec_run per command"] = timed(
            lambda: container.exec_run(["bash", "-c", "true"], workdir="/testbed"), steps
        )
        out["docker step baseline: docker exec CLI"] = timed(
            lambda: subprocess.run(["docker", "exec", container.id, "bash", "-c", "true"], check=True),
            max(steps // 2, 10),
        )

        def dirty_reset():
            box.run("echo x >> README.md; touch new.txt")
            started = time.perf_counter()
            box.reset()
            return time.perf_counter() - started

        out["docker reset (git in place)"] = _timed_inner(dirty_reset, resets)
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

    out["reset baseline: container re-creation"] = timed(recreate, max(resets // 2, 5), warmup=1)
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
    parser.add_argument("--steps", type=int, default=200)
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
    table = Table(title="sandbox latency (ms)")
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
    RESULTS.write_text(json.dumps({"results": results, "ratios": r, "targets": t}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
