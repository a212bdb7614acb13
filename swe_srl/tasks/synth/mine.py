"""``swe-srl tasks mine``: real fixes between two consecutive releases of a project, as tasks.

The diff between the earlier release's sdist and this one is split into test files (the test
patch) and source files. Each changed source file is a candidate fix. Its task starts from this
release's tree with that file's change and every test change reverted (SWE-smith's approach for
pull requests: undo the change on the current version), so the agent sees the earlier behaviour
and not the new tests; the gold patch is the file's real change, the test patch the real test
changes. A candidate is kept only when the diff isolates it: some tests fail without it and pass
with it (FAIL_TO_PASS, at most ``max_failing``), and the change is small.

Tests run through the one test runner (``runs.py``). With the fix the tree is this release itself,
so one run of it serves every candidate; without it, this release with only that source file put
back, its tests this release's: the state a task's tests see once its test patch is applied.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.environments.spec import EnvSpec
from swe_srl.sandbox.base import TESTBED, Sandbox
from swe_srl.tasks.synth.pipeline import DEFAULT_TEST_TIMEOUT, Progress, open_project_sandbox, unified_diff
from swe_srl.tasks.synth.project import ProjectConfig, ProjectError
from swe_srl.tasks.synth.redact import redact_tree
from swe_srl.tasks.synth.runs import SuiteRun, failure_options, run_suite
from swe_srl.tasks.synth.sources import download_sdist, extract_sdist
from swe_srl.tasks.synth.statement import write_statement

MAX_FIX_LINES = 120  # a "fix" changing more lines than this is a feature or a refactoring


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str  # "" when the file is new
    after: str  # "" when the file was removed

    def diff(self) -> str:
        diff = unified_diff(self.path, self.before, self.after)
        if not self.before:
            diff = diff.replace(f"--- a/{self.path}", "--- /dev/null", 1)
        if not self.after:
            diff = diff.replace(f"+++ b/{self.path}", "+++ /dev/null", 1)
        return diff

    def reverse(self) -> FileChange:
        return FileChange(self.path, self.after, self.before)

    @property
    def size(self) -> int:
        return sum(
            1 for line in self.diff().splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
        )


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _texts(tree: Path) -> dict[str, str]:
    found = {}
    for path in sorted(tree.rglob("*.py")):
        rel = path.relative_to(tree).as_posix()
        if ".egg-info" in rel or "/build/" in f"/{rel}":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if text and not text.endswith("\n"):
            continue  # see pipeline.candidates: difflib cannot mark a missing final newline
        found[rel] = text
    return found


def changes_between(old: Path, new: Path) -> list[FileChange]:
    """Changed Python files between two trees (added, modified, removed), sorted by path."""
    before, after = _texts(old), _texts(new)
    return [
        FileChange(path, before.get(path, ""), after.get(path, ""))
        for path in sorted(set(before) | set(after))
        if before.get(path, "") != after.get(path, "")
    ]


def _without(
    sandbox: Sandbox, spec: EnvSpec, config: ProjectConfig, fix: FileChange, timeout: float
) -> SuiteRun:
    """The release's tests on the release with ``fix``'s file as it was before the fix."""
    sandbox.reset()
    sandbox.write_file(f"{TESTBED}/{fix.path}", fix.before)
    return run_suite(sandbox, spec, config.test_paths, timeout, options=failure_options(spec))


def _row(config: ProjectConfig, spec: EnvSpec, old: str, fix: FileChange, setup: str, test_patch: str,
         before: SuiteRun, f2p: list[str], p2p: list[str]) -> dict[str, Any]:  # fmt: skip
    digest = hashlib.sha256(fix.diff().encode()).hexdigest()[:8]
    return {
        "instance_id": f"{config.instance_prefix}.mined-{digest}",
        "repo": spec.repo,
        "version": spec.version,
        "problem_statement": write_statement(
            config.name, old, f2p, before.log, Path(spec.repo_dir), spec.log_parser
        ),
        "setup_patch": setup,
        "patch": fix.diff(),
        "test_patch": test_patch,
        "FAIL_TO_PASS": f2p,
        "PASS_TO_PASS": p2p,
        "environment": spec.name,
        "test_cmd": spec.test_cmd,
        "log_parser": spec.log_parser,
        "metadata": {"origin": "mined", "from_version": old, "to_version": config.version, "file": fix.path},
    }


def mine_fixes(
    config: ProjectConfig,
    spec: EnvSpec,
    old_version: str,
    suite_dir: Path,
    *,
    cache: Path,
    sandbox_kind: str = "local",
    timeout: float = DEFAULT_TEST_TIMEOUT,
    progress: Progress = lambda _: None,
) -> list[dict[str, Any]]:
    """Tasks from the real source changes between ``old_version`` and ``config.version``."""
    with tempfile.TemporaryDirectory(prefix="swe-srl-mine-") as tmp:
        old_tree = extract_sdist(download_sdist(config.name, old_version, cache), Path(tmp) / "old")
        redact_tree(old_tree)  # as this release's tree was: host names are no change between them
        changes = changes_between(old_tree, Path(spec.repo_dir))
    tests = [c for c in changes if is_test_path(c.path)]
    sources = [
        c for c in changes if not is_test_path(c.path) and c.before and c.after and c.size <= MAX_FIX_LINES
    ]
    test_patch = "".join(c.diff() for c in tests)
    revert_tests = "".join(c.reverse().diff() for c in tests)
    progress(
        f"{spec.name}: {len(sources)} candidate fix(es) since {old_version}, "
        f"{len(tests)} test file(s) changed"
    )
    rows = []
    if not sources:
        return rows
    with open_project_sandbox(sandbox_kind, spec, suite_dir) as sandbox:
        after = run_suite(sandbox, spec, config.test_paths, timeout)
        if after.problem:
            raise ProjectError(f"{spec.name}: the release's own tests did not run ({after.problem})")
        for fix in sources:
            setup = fix.reverse().diff() + revert_tests
            before = _without(sandbox, spec, config, fix, timeout)
            f2p = sorted(after.passed - before.passed)
            if before.problem or not f2p or len(f2p) > config.max_failing:
                continue
            files = {t.split("::", 1)[0] for t in f2p}
            p2p = sorted(
                t
                for t in before.passed & after.passed
                if spec.log_parser != "pytest" or t.split("::", 1)[0] in files
            )
            rows.append(_row(config, spec, old_version, fix, setup, test_patch, before, f2p, p2p))
            progress(f"{spec.name}: kept the fix in {fix.path} ({len(f2p)} failing without it)")
    return rows
