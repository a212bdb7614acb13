"""``swe-srl tasks synth``: bugs injected into a real project, kept only when its own tests catch them.

For one project version (SWE-smith's recipe over a PyPI sdist): prepare the source tree and its
environment (``project.py``), run the whole test suite once through the one test runner
(``runs.py``) to find the passing set, then try AST mutations (``mutations.py``) in a seeded
order that cycles through the operators. A candidate is kept when at least one passing test now
fails, no more than ``max_failing`` do, and every other passing test still passes; its
FAIL_TO_PASS are the tests it broke, its PASS_TO_PASS the other passing tests of the same files.
The bug is the task's ``setup_patch``, its reverse the gold ``patch``, and the problem statement
is written from the failing tests alone (``statement.py``). Same inputs and seed, same tasks.
"""

from __future__ import annotations

import difflib
import hashlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.environments.spec import ENVIRONMENTS_FILE, EnvSpec
from swe_srl.eval.testrun import RUN_OUTPUT_LIMIT
from swe_srl.records import Task
from swe_srl.sandbox.base import TESTBED, Sandbox
from swe_srl.tasks.synth.mutations import OPERATORS, Mutation, mutations
from swe_srl.tasks.synth.project import ProjectConfig, ProjectError
from swe_srl.tasks.synth.runs import SuiteRun, failure_options, run_suite
from swe_srl.tasks.synth.statement import write_statement

DEFAULT_TEST_TIMEOUT = 300.0
CANDIDATE_MIN_TIMEOUT = 30.0
CANDIDATE_SLOWDOWN = 3.0
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    path: str  # relative to the repository root
    mutation: Mutation


def unified_diff(path: str, before: str, after: str) -> str:
    """A git-applicable diff of one file."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
    )
    return "".join(lines)


def source_files(tree: Path, config: ProjectConfig) -> list[str]:
    """Python files bugs may go into: under ``source_paths``, never tests, sorted."""
    roots = [tree / p for p in config.source_paths] or [tree]
    found = set()
    for root in roots:
        paths = [root] if root.is_file() else root.rglob("*.py")
        for path in paths:
            rel = path.relative_to(tree).as_posix()
            parts = rel.split("/")
            if any(p in ("tests", "test", "testing", "docs") for p in parts[:-1]) or parts[-1].startswith(
                "test"
            ):
                continue
            if parts[-1] in ("conftest.py", "setup.py", "_version.py", "version.py"):
                continue
            found.add(rel)
    return sorted(found)


def candidates(tree: Path, config: ProjectConfig, seed: int) -> Iterator[Candidate]:
    """Every mutation of the project's sources, in a seeded order that cycles through the operators."""
    by_operator: dict[str, list[Candidate]] = {name: [] for name in OPERATORS}
    for rel in source_files(tree, config):
        text = (tree / rel).read_text(encoding="utf-8")
        if not text.endswith("\n"):
            continue  # a diff of a file without its final newline needs markers difflib does not write
        for mutation in mutations(text):
            by_operator[mutation.operator].append(Candidate(rel, mutation))
    rng = random.Random(seed)
    queues = []
    for name in OPERATORS:
        items = by_operator[name]
        rng.shuffle(items)
        queues.append(items)
    while any(queues):
        for queue in queues:
            if queue:
                yield queue.pop()


def _test_file(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def _pass_to_pass(baseline: frozenset[str], broken: set[str], parser: str) -> list[str]:
    if parser != "pytest":  # unittest-style ids name no file: every other passing test
        return sorted(baseline - broken)
    files = {_test_file(t) for t in broken}
    return sorted(t for t in baseline - broken if _test_file(t) in files)


def _source_task(spec: EnvSpec, suite_dir: Path) -> Task:
    return Task(
        instance_id=f"{spec.name}.source",
        repo=spec.repo,
        base_commit="",
        problem_statement="-",
        repo_dir=spec.repo_dir,
        environment=f"{(suite_dir / ENVIRONMENTS_FILE).resolve()}#{spec.name}",
    )


def open_project_sandbox(kind: str, spec: EnvSpec, suite_dir: Path) -> Sandbox:
    """A sandbox on the project's unchanged source tree, sized for whole-suite runs (as ``validate``)."""
    from swe_srl.sandbox import make_sandbox

    return make_sandbox(kind, _source_task(spec, suite_dir), output_limit=RUN_OUTPUT_LIMIT)


def _try(
    sandbox: Sandbox, spec: EnvSpec, config: ProjectConfig, candidate: Candidate, timeout: float
) -> SuiteRun:
    sandbox.reset()
    sandbox.write_file(f"{TESTBED}/{candidate.path}", candidate.mutation.source)
    return run_suite(sandbox, spec, config.test_paths, timeout, options=failure_options(spec))


def _row(spec: EnvSpec, config: ProjectConfig, candidate: Candidate, original: str, run: SuiteRun,
         broken: list[str], p2p: list[str], seed: int) -> dict[str, Any]:  # fmt: skip
    bug = unified_diff(candidate.path, original, candidate.mutation.source)
    fix = unified_diff(candidate.path, candidate.mutation.source, original)
    digest = hashlib.sha256(bug.encode()).hexdigest()[:8]
    return {
        "instance_id": f"{config.instance_prefix}.synth-{digest}",
        "repo": spec.repo,
        "version": spec.version,
        "problem_statement": write_statement(
            config.name, config.version, broken, run.log, Path(spec.repo_dir), spec.log_parser
        ),
        "setup_patch": bug,
        "patch": fix,
        "test_patch": "",
        "FAIL_TO_PASS": broken,
        "PASS_TO_PASS": p2p,
        "environment": spec.name,
        "test_cmd": spec.test_cmd,
        "log_parser": spec.log_parser,
        "metadata": {
            "origin": "synthesized",
            "operator": candidate.mutation.operator,
            "file": candidate.path,
            "line": candidate.mutation.line,
            "seed": seed,
        },
    }


def synthesize(
    config: ProjectConfig,
    spec: EnvSpec,
    suite_dir: Path,
    *,
    seed: int = 0,
    sandbox_kind: str = "local",
    timeout: float = DEFAULT_TEST_TIMEOUT,
    progress: Progress = lambda _: None,
) -> list[dict[str, Any]]:
    """Up to ``config.synth`` validated bug rows for one project (see the module docstring)."""
    tree = Path(spec.repo_dir)
    rows: list[dict[str, Any]] = []
    seen_failures: dict[frozenset[str], int] = {}
    with open_project_sandbox(sandbox_kind, spec, suite_dir) as sandbox:
        start = time.monotonic()
        first = run_suite(sandbox, spec, config.test_paths, timeout)
        baseline = first.passed
        if first.problem or not baseline:
            raise ProjectError(
                f"{spec.name}: no test passes before any bug is injected ({first.problem or 'none passed'})"
            )
        # A bug that makes the suite hang (a loop that never ends) is dropped after a few baseline runs' time.
        timeout = min(timeout, max(CANDIDATE_MIN_TIMEOUT, CANDIDATE_SLOWDOWN * (time.monotonic() - start)))
        progress(f"{spec.name}: {len(baseline)} tests pass at baseline")
        for tried, candidate in enumerate(candidates(tree, config, seed)):
            if len(rows) >= config.synth or tried >= config.max_candidates:
                break
            run = _try(sandbox, spec, config, candidate, timeout)
            broken = sorted(baseline - run.passed)
            key = frozenset(broken)
            if (
                run.problem
                or not broken
                or len(broken) > config.max_failing
                or seen_failures.get(key, 0) >= 2
            ):
                continue
            seen_failures[key] = seen_failures.get(key, 0) + 1
            original = (tree / candidate.path).read_text(encoding="utf-8")
            p2p = _pass_to_pass(baseline, set(broken), spec.log_parser)
            rows.append(_row(spec, config, candidate, original, run, broken, p2p, seed))
            progress(
                f"{spec.name}: kept {candidate.mutation.operator} in {candidate.path} ({len(broken)} failing)"
            )
    return rows
