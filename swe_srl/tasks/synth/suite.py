"""A suite folder built from real projects: ``repos/``, ``environments.jsonl``, ``tasks.jsonl``.

``build_project`` prepares one project (sdist, environment), synthesizes bugs and mines fixes from
the earlier versions it names, and merges the rows into the suite's ``tasks.jsonl`` (replacing that
environment's earlier rows), with each ``base_commit`` computed the way every sandbox prepares it.
``envs/pypi/build.py`` runs it over ``projects.json``; ``swe-srl tasks synth`` / ``tasks mine`` over
one project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swe_srl.environments.spec import EnvSpec
from swe_srl.records import Task
from swe_srl.tasks.suites import SUITE_FILE
from swe_srl.tasks.synth.pipeline import Progress, synthesize
from swe_srl.tasks.synth.project import ProjectConfig, prepare_project


def default_download_cache() -> Path:
    from swe_srl.sandbox.workspace import default_cache_root

    return default_cache_root() / "sdists"


def with_base_commit(row: dict[str, Any], spec: EnvSpec) -> dict[str, Any]:
    """``row`` with the base commit preparing its repository produces (same on every machine)."""
    from swe_srl.sandbox.workspace import base_commit_of

    task = Task(
        instance_id=row["instance_id"],
        repo=row["repo"],
        base_commit="",
        problem_statement="-",
        repo_dir=spec.repo_dir,
        setup_patch=row.get("setup_patch", ""),
    )
    return {**row, "base_commit": base_commit_of(task)}


def merge_rows(suite_dir: Path, env_name: str, rows: list[dict[str, Any]], origin: str) -> int:
    """Replace ``env_name``'s rows of ``origin`` in ``tasks.jsonl`` by ``rows``; return the suite's size."""
    path = suite_dir / SUITE_FILE
    existing = []
    if path.is_file():
        existing = [
            json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    kept = [
        r
        for r in existing
        if not (r.get("environment") == env_name and r.get("metadata", {}).get("origin") == origin)
    ]
    merged = sorted([*kept, *rows], key=lambda r: r["instance_id"])
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in merged), encoding="utf-8")
    return len(merged)


def build_project(
    config: ProjectConfig,
    suite_dir: Path,
    *,
    seed: int = 0,
    sandbox_kind: str = "local",
    mine: bool = True,
    synth: bool = True,
    cache: Path | None = None,
    progress: Progress = lambda _: None,
) -> list[dict[str, Any]]:
    """Synthesize (and mine) one project's tasks into ``suite_dir``; return the new rows."""
    suite_dir.mkdir(parents=True, exist_ok=True)
    spec = prepare_project(config, suite_dir, cache or default_download_cache())
    from swe_srl.environments.build import build_environment

    build_environment(spec)
    rows: list[dict[str, Any]] = []
    if synth:
        found = synthesize(config, spec, suite_dir, seed=seed, sandbox_kind=sandbox_kind, progress=progress)
        rows = [with_base_commit(r, spec) for r in found]
        merge_rows(suite_dir, spec.name, rows, "synthesized")
    if mine and config.mine_from:
        from swe_srl.tasks.synth.mine import mine_fixes

        mined: dict[str, dict[str, Any]] = {}
        for old in config.mine_from:
            found = mine_fixes(config, spec, old, suite_dir, cache=cache or default_download_cache(),
                               sandbox_kind=sandbox_kind, progress=progress)  # fmt: skip
            # The same fix reached from two releases is one task (the first release that shows it).
            mined.update(
                {r["instance_id"]: with_base_commit(r, spec) for r in found if r["instance_id"] not in mined}
            )
        merge_rows(suite_dir, spec.name, list(mined.values()), "mined")
        rows += list(mined.values())
    return rows
