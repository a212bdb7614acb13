"""Environments: build time and disk (per-environment vs per-task images), and time to first step.

1. **Build and disk.** For one environment of the ``pypi`` suite and its N tasks: building the
   environment (virtual environment over the base root filesystem), its Docker image and N thin
   per-task layers, against the baseline of N full per-task images (base image + the environment +
   the task's repository each, as one image per instance does). Disk is the images' own layers
   (the shared base image excluded); the ratio is per-environment / per-task.
2. **Time to first step** on a repository of more than 5,000 files (Django's sdist, with its
   environment built first), p50 / p90 over repetitions, for a new sandbox (start + first command)
   and for the next episode in the same sandbox (``reset()`` + first command): local with the
   overlay workspace, local copying the workspace (the baseline: how every episode started before),
   and Docker; each against the copy baseline in the same run, and against the small sample task.

Needs the package index once (the environments build), bubblewrap and a Docker engine.
Run: ``.venv/bin/python benchmarks/bench_environments.py [--env inflection-0.5.1] [--reps 7]``.
Writes ``benchmarks/results/bench_environments.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl.environments.build import build_environment
from swe_srl.environments.images import build_env_image, build_task_layer
from swe_srl.environments.mount import TaskEnvironment
from swe_srl.environments.reference import spec_for
from swe_srl.records import Task
from swe_srl.sandbox import make_sandbox
from swe_srl.sandbox.workspace import prepare_base_repo
from swe_srl.tasks import load_tasks

RESULTS = Path(__file__).resolve().parent / "results" / "bench_environments.json"
BASE_IMAGE = "swe-srl/base:bookworm"
LARGE = ("Django", "4.2.16", "django/django")


def _image_size(image: str) -> int:
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image], capture_output=True, text=True
    )
    return int(out.stdout.strip() or 0)


def _du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True).stdout.split()[0])


def _full_task_image(env: TaskEnvironment, task: Task, image: str) -> None:
    """The baseline: one self-contained image per task (environment and repository copied each time)."""
    with tempfile.TemporaryDirectory(prefix="bench-fullimage-") as tmp:
        context = Path(tmp)
        shutil.copytree(env.built.venv, context / "venv", symlinks=True)
        shutil.copytree(prepare_base_repo(task), context / "testbed", symlinks=True)
        (context / "Dockerfile").write_text(
            f"FROM {BASE_IMAGE}\nCOPY venv /opt/swe-srl/venv\nCOPY testbed /testbed\nWORKDIR /testbed\n"
        )
        subprocess.run(["docker", "build", "--network", "none", "-q", "-t", image, str(context)], check=True,
                       capture_output=True)  # fmt: skip


def build_and_disk(env_name: str) -> dict:
    tasks = [t for t in load_tasks("pypi") if t.environment.endswith(f"#{env_name}")]
    spec = spec_for(tasks[0])
    start = time.perf_counter()
    built = build_environment(spec, force=True)
    venv_seconds = time.perf_counter() - start
    env = TaskEnvironment(spec, built)
    start = time.perf_counter()
    env_image = build_env_image(env, force=True)
    image_seconds = time.perf_counter() - start
    base = _image_size(BASE_IMAGE)
    env_bytes = _image_size(env_image) - base
    thin, full = [], []
    try:
        start = time.perf_counter()
        for index, task in enumerate(tasks):
            thin.append(f"swe-srl/bench-thin:{index}")
            build_task_layer(env, task, thin[-1], force=True)
        thin_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for index, task in enumerate(tasks):
            full.append(f"swe-srl/bench-full:{index}")
            _full_task_image(env, task, full[-1])
        full_seconds = time.perf_counter() - start
        thin_bytes = sum(_image_size(i) - base - env_bytes for i in thin)
        full_bytes = sum(_image_size(i) - base for i in full)
    finally:
        subprocess.run(["docker", "image", "rm", "-f", *thin, *full], capture_output=True)
    per_env_bytes, per_env_seconds = env_bytes + thin_bytes, venv_seconds + image_seconds + thin_seconds
    return {
        "environment": env_name,
        "tasks": len(tasks),
        "venv_build_seconds": round(venv_seconds, 2),
        "venv_bytes": _du(built.venv),
        "env_image_seconds": round(image_seconds, 2),
        "env_image_bytes": env_bytes,
        "thin_layers_seconds": round(thin_seconds, 2),
        "thin_layers_bytes": thin_bytes,
        "per_task_images_seconds": round(full_seconds, 2),
        "per_task_images_bytes": full_bytes,
        "disk_ratio_per_env_vs_per_task": round(per_env_bytes / full_bytes, 3),
        "time_ratio_per_env_vs_per_task": round(per_env_seconds / (venv_seconds + full_seconds), 3),
    }


def large_task(cache: Path) -> Task:
    """Django's sdist (6,700+ files) as a suite with its environment, under ``cache``."""
    from swe_srl.tasks.synth.project import ProjectConfig, prepare_project

    name, version, repo = LARGE
    config = ProjectConfig(name=name, version=version, repo=repo, test_packages=())
    spec = prepare_project(config, cache, cache / "sdists")
    build_environment(spec)
    return Task(
        instance_id="django__django-large",
        repo=repo,
        base_commit="",
        problem_statement="-",
        repo_dir=spec.repo_dir,
        environment=f"{cache / 'environments.jsonl'}#{spec.name}",
    )


def _quantiles(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50": round(statistics.median(times), 3), "p90": round(times[int(0.9 * (len(times) - 1))], 3)}


def first_step(kind: str, task: Task, reps: int, **options) -> dict:
    """A new sandbox to its first command, and the next episode (``reset()``) to its first command."""
    make_sandbox(kind, task, **options).close()  # warm: base repository prepared, images built
    starts, resets = [], []
    for _ in range(reps):
        start = time.perf_counter()
        with make_sandbox(kind, task, **options) as sandbox:
            sandbox.run("true")
            starts.append(time.perf_counter() - start)
            sandbox.run("echo changed >> README.rst; rm -rf docs; touch new.txt")  # an episode's edits
            start = time.perf_counter()
            sandbox.reset()
            sandbox.run("true")
            resets.append(time.perf_counter() - start)
    new, reset = _quantiles(starts), _quantiles(resets)
    return {**new, "reset_p50": reset["p50"], "reset_p90": reset["p90"]}


SETUPS = (("local", "overlay", {"workspace": "overlay"}), ("local", "copy", {"workspace": "copy"}),
          ("docker", "", {}))  # fmt: skip


def time_to_first_step(reps: int) -> tuple[list[dict], int]:
    cache = Path(tempfile.gettempdir()) / "swe-srl-bench-large"
    large = large_task(cache)
    files = sum(1 for _ in Path(large.repo_dir).rglob("*") if _.is_file())
    small = load_tasks("sample")[0]
    rows = []
    for kind, mode, options in SETUPS:
        sample = {
            "sandbox": kind,
            "workspace": mode,
            "repo": "sample",
            **first_step(kind, small, reps, **options),
        }
        big = {"sandbox": kind, "workspace": mode, "repo": f"django ({files} files)",
               **first_step(kind, large, reps, **options)}  # fmt: skip
        big["ratio_vs_sample"] = round(big["p50"] / sample["p50"], 2)
        rows += [sample, big]
    baseline = {r["repo"]: r for r in rows if r["workspace"] == "copy"}
    for row in rows:
        row["ratio_vs_copy"] = round(row["p50"] / baseline[row["repo"]]["p50"], 3)
        row["reset_ratio_vs_copy"] = round(row["reset_p50"] / baseline[row["repo"]]["reset_p50"], 3)
    return rows, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="inflection-0.5.1")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--keep-build", action="store_true", help="reuse the build/disk figures of the last run"
    )
    args = parser.parse_args()
    console = Console()
    if args.keep_build and RESULTS.is_file():
        disk = json.loads(RESULTS.read_text())["build_and_disk"]
    else:
        disk = build_and_disk(args.env)
    table = Table(
        title=f"{disk['environment']}: {disk['tasks']} tasks, one environment vs one image per task"
    )
    for column in ("", "seconds", "MB"):
        table.add_column(column, justify="right")
    mb = 1 / 1e6
    table.add_row("venv build", f"{disk['venv_build_seconds']:.1f}", f"{disk['venv_bytes'] * mb:.1f}")
    table.add_row("env image", f"{disk['env_image_seconds']:.1f}", f"{disk['env_image_bytes'] * mb:.1f}")
    table.add_row(
        "thin task layers", f"{disk['thin_layers_seconds']:.1f}", f"{disk['thin_layers_bytes'] * mb:.2f}"
    )
    table.add_row(
        "per-task images",
        f"{disk['per_task_images_seconds']:.1f}",
        f"{disk['per_task_images_bytes'] * mb:.1f}",
    )
    table.add_row(
        "ratio",
        f"{disk['time_ratio_per_env_vs_per_task']:.2f}x",
        f"{disk['disk_ratio_per_env_vs_per_task']:.3f}x",
    )
    console.print(table)
    rows, files = time_to_first_step(args.reps)
    table = Table(
        title="time to first step, seconds (new sandbox / next episode after reset); target p50 <= 0.5 s"
    )
    columns = ("sandbox", "workspace", "repository", "new p50", "new p90", "vs copy", "reset p50",
               "reset p90", "vs copy", "vs sample")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["sandbox"], row["workspace"] or "-", row["repo"], f"{row['p50']:.3f}",
                      f"{row['p90']:.3f}", f"{row['ratio_vs_copy']:.2f}x", f"{row['reset_p50']:.3f}",
                      f"{row['reset_p90']:.3f}", f"{row['reset_ratio_vs_copy']:.2f}x",
                      f"{row.get('ratio_vs_sample', 1.0):.2f}x")  # fmt: skip
    console.print(table)
    result = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cpus",
        "build_and_disk": disk,
        "time_to_first_step": rows,
        "large_repo_files": files,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
