"""Sandbox step, diff and reset latency, each against baselines measured in the same run.

Hardened settings (what ``make_sandbox`` gives) against the previous settings rebuilt here as
baselines, on the same task:

* local step: persistent shell in bwrap run as the unprivileged sandbox account with every capability
  dropped  vs  the same shell in bwrap run as root without those flags  vs  one ``bwrap`` per command
* docker step: persistent shell in a container with dropped capabilities and ``no-new-privileges``  vs
  the same in a container with the engine's default capabilities  vs  ``exec_run`` / ``docker exec``
* diff: the hardened git (hooks, fsmonitor and filters off, nested repositories left out, size cap)  vs
  the previous plain ``git add -A`` + ``git diff --cached``
* reset: local = fresh shell + pristine ``.git`` + git restore; docker = a fresh container  vs  the previous
  in-place ``git reset --hard`` + ``git clean`` (which let one episode prepare the next)

Targets: local step p50 <= 5 ms; hardening costs a step at most 1.5x the previous settings' step.
Usage: ``python benchmarks/bench_sandbox.py [--steps N] [--resets N] [--no-docker]``; writes
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
from swe_srl.sandbox.bwrap import PipeChannel, bwrap_argv  # noqa: E402
from swe_srl.sandbox.docker_backend import _INIT, BASE_IMAGE  # noqa: E402
from swe_srl.sandbox.docker_io import ExecChannel  # noqa: E402
from swe_srl.sandbox.limits import CgroupJail, ResourceLimits  # noqa: E402
from swe_srl.sandbox.shell import BASE_ENV, CONTROL_DIR, GITCONFIG, SHELL_ARGV, ShellSession  # noqa: E402
from swe_srl.sandbox.workspace import head_of, prepare_base_repo, repo_tarball  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_sandbox.json"
# The flags hardening added to bubblewrap's command line; the baseline runs without them, as root.
_HARDENING_FLAGS = {"--unshare-user": 0, "--uid": 1, "--gid": 1, "--cap-drop": 1, "--disable-userns": 0}
_OLD_DIFF = (
    'idx=$(mktemp) && cp .git/index "$idx" && export GIT_INDEX_FILE="$idx" && '
    "git add -A -- . ':(exclude)*.pyc' && git diff --cached {base}; rc=$?; rm -f \"$idx\"; exit $rc"
)
_OLD_RESET = "rm -f .git/index.lock && git reset -q --hard {base} && git clean -q -fdx"


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


def timed_inner(fns: dict[str, Callable[[], float]], n: int) -> dict[str, dict]:
    """Like :func:`timed`, for functions that time their own critical section (in seconds)."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(n):
        for name, fn in fns.items():
            samples[name].append(fn() * 1000)
    return {name: _stats(values) for name, values in samples.items()}


def _without_hardening(argv: list[str]) -> list[str]:
    out, skip = [], 0
    for arg in argv:
        if skip:
            skip -= 1
        elif arg in _HARDENING_FLAGS:
            skip = _HARDENING_FLAGS[arg]
        else:
            out.append(arg)
    return out


class OldLocal:
    """The previous local settings: bwrap as root (uid 0 inside = host root), reset in place with git."""

    def __init__(self, base: Path, scratch: Path):
        self.base_commit = head_of(base)
        self.workspace = scratch / "testbed"
        subprocess.run(["cp", "-a", str(base), str(self.workspace)], check=True)
        (scratch / "gitconfig").write_text(GITCONFIG)
        argv = _without_hardening(bwrap_argv(self.workspace, scratch / "gitconfig", BASE_ENV))
        self.jail = CgroupJail(f"bench-old.{os.getpid()}.0.x", ResourceLimits())
        wrapped = self.jail.wrap(argv)
        self.session = ShellSession(
            lambda: PipeChannel(wrapped, str(scratch), scratch / "shell.log", env={}, bwrap=True),
            ctl_dir=CONTROL_DIR,
        )
        self.session.start()

    def run(self, cmd: str) -> object:
        return self.session.run(cmd)

    def diff(self) -> str:
        return self.session.run_clean(_OLD_DIFF.format(base=self.base_commit), BASE_ENV, "old diff")

    def reset(self) -> None:
        self.session.reset_state()
        self.session.run_clean(_OLD_RESET.format(base=self.base_commit), BASE_ENV, "old reset")

    def close(self) -> None:
        self.session.close()
        self.jail.release()


class OldDocker:
    """The previous Docker settings: the engine's default capabilities, reset in place with git."""

    def __init__(self, client, tar: bytes, base_commit: str):
        self.base_commit = base_commit
        self.container = client.containers.create(
            BASE_IMAGE, command=_INIT, network_mode="none", labels={"swe-srl.sandbox": "1"}
        )
        self.container.put_archive("/", tar)
        self.container.start()
        self.session = ShellSession(
            lambda: ExecChannel(client, self.container, BASE_ENV), ctl_dir=CONTROL_DIR
        )
        self.session.start()

    run, diff, reset = OldLocal.run, OldLocal.diff, OldLocal.reset

    def close(self) -> None:
        self.session.discard()
        self.container.remove(force=True)


def _dirty_then(fn: Callable[[], object], box) -> Callable[[], float]:
    """Dirty the tree, then time ``fn`` alone (in seconds)."""

    def run() -> float:
        box.run("echo x >> README.md; touch new.txt; mkdir -p build && touch build/o")
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return run


def bench_local(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    base = prepare_base_repo(task, cache)
    scratch = Path(tempfile.mkdtemp(prefix="bench-old-local."))
    old = OldLocal(base, scratch)
    try:
        with make_sandbox("local", task, cache_root=cache) as box:
            argv = _without_hardening(bwrap_argv(box.workspace, box.root / "gitconfig", BASE_ENV))
            spawn = [*argv[: -len(SHELL_ARGV)], "bash", "-c", "true"]
            out = timed(
                {
                    "local step": lambda: box.run("true"),
                    "local step, old settings (bwrap as root)": lambda: old.run("true"),
                    "local step baseline: bwrap spawn per command": lambda: subprocess.run(
                        spawn, check=True, env={}
                    ),
                },
                steps,
            )
            box.run("echo x >> README.md; touch new.txt")
            old.run("echo x >> README.md; touch new.txt")
            out |= timed({"local diff": box.diff, "local diff, old settings": old.diff}, max(steps // 3, 10))
            out |= timed_inner(
                {
                    "local reset": _dirty_then(box.reset, box),
                    "local reset, old settings (git in place)": _dirty_then(old.reset, old),
                },
                resets,
            )
            out |= timed_inner(
                {"local sandbox start + close": lambda: _start_close("local", task, cache)}, resets
            )
    finally:
        old.close()
        subprocess.run(["rm", "-rf", str(scratch)], check=True)
    return out


def _start_close(kind: str, task, cache: Path) -> float:
    started = time.perf_counter()
    make_sandbox(kind, task, cache_root=cache).close()
    return time.perf_counter() - started


def bench_docker(task, cache: Path, steps: int, resets: int) -> dict[str, dict]:
    with make_sandbox("docker", task, cache_root=cache) as box:
        client, container = box.client, box.container
        tar = repo_tarball(prepare_base_repo(task, cache)).read_bytes()
        old = OldDocker(client, tar, box.base_commit)
        try:
            out = timed(
                {
                    "docker step": lambda: box.run("true"),
                    "docker step, old settings (default capabilities)": lambda: old.run("true"),
                    "docker step baseline: exec_run per command": lambda: container.exec_run(
                        ["bash", "-c", "true"], workdir="/testbed"
                    ),
                    "docker step baseline: docker exec CLI": lambda: subprocess.run(
                        ["docker", "exec", container.id, "bash", "-c", "true"], check=True
                    ),
                },
                steps,
            )
            box.run("echo x >> README.md; touch new.txt")
            old.run("echo x >> README.md; touch new.txt")
            out |= timed(
                {"docker diff": box.diff, "docker diff, old settings": old.diff}, max(steps // 3, 10)
            )
            out |= timed_inner(
                {
                    "docker reset (fresh container)": _dirty_then(box.reset, box),
                    "docker reset, old settings (git in place)": _dirty_then(old.reset, old),
                },
                resets,
            )
        finally:
            old.close()
    return out


def ratios(results: dict[str, dict]) -> dict[str, float]:
    p = {k: v["p50_ms"] for k, v in results.items()}
    pairs = {
        "local step vs old settings": ("local step", "local step, old settings (bwrap as root)"),
        "local step vs bwrap spawn": ("local step", "local step baseline: bwrap spawn per command"),
        "local diff vs old settings": ("local diff", "local diff, old settings"),
        "local reset vs old settings": ("local reset", "local reset, old settings (git in place)"),
        "docker step vs old settings": ("docker step", "docker step, old settings (default capabilities)"),
        "docker step vs exec_run": ("docker step", "docker step baseline: exec_run per command"),
        "docker step vs docker exec CLI": ("docker step", "docker step baseline: docker exec CLI"),
        "docker diff vs old settings": ("docker diff", "docker diff, old settings"),
        "docker reset vs old settings": (
            "docker reset (fresh container)",
            "docker reset, old settings (git in place)",
        ),
    }
    return {name: p[a] / p[b] for name, (a, b) in pairs.items() if a in p and b in p}


def targets(results: dict[str, dict], r: dict[str, float]) -> dict[str, bool]:
    t = {
        "local step p50 <= 5 ms": results["local step"]["p50_ms"] <= 5.0,
        "local step <= 1.5x old settings": r["local step vs old settings"] <= 1.5,
    }
    if "docker step vs old settings" in r:
        t["docker step <= 1.5x old settings"] = r["docker step vs old settings"] <= 1.5
        t["docker step <= 1/7 exec_run"] = r["docker step vs exec_run"] <= 1 / 7
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--resets", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        task = make_tiny_task(Path(tmp))
        cache = Path(tmp) / "cache"
        results = bench_local(task, cache, args.steps, args.resets)
        if not args.no_docker:
            results |= bench_docker(task, cache, args.steps, args.resets)
    r = ratios(results)
    t = targets(results, r)
    load = os.getloadavg()  # other work on the machine inflates every figure; ratios hold better
    title = (
        f"sandbox latency (ms); load average {load_before[0]:.1f} -> {load[0]:.1f} on {os.cpu_count()} CPUs"
    )
    table = Table(title=title)
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
    summary = {
        "results": results,
        "ratios": r,
        "targets": t,
        "loadavg": [load_before, load],
        "cpus": os.cpu_count(),
    }
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
