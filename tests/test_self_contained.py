"""The repository is self-contained: a clone with nothing beside it collects and passes its tests.

A user's clone has no sibling folders, so no code, test or benchmark may read outside the repository.
The clone is made from the committed tree (what ``git clone`` gives a user) into a fresh temporary
directory; its own checkout of ``swe_srl`` is imported there, not this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lone_clone(tmp_path_factory) -> Path:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")  # an sdist or installed copy has nothing to clone
    clone = tmp_path_factory.mktemp("lone") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    return clone


def _pytest(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(clone)  # the clone's package, not the editable install of this checkout
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_fresh_clone_collects_every_test(lone_clone):
    proc = _pytest(lone_clone, "--collect-only")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "error" not in proc.stdout.lower().splitlines()[-1]


def test_fresh_clone_passes_the_fixture_based_tests(lone_clone):
    proc = _pytest(lone_clone, "tests/test_importers.py", "tests/test_trajectory_io.py")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout


def test_no_source_file_names_a_path_beside_the_repository():
    offenders = []
    for folder in ("swe_srl", "tests", "benchmarks", "scripts", "envs"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            text = path.read_text(errors="replace")
            if '.parent / "shared"' in text or "../shared" in text:
                offenders.append(str(path.relative_to(REPO_ROOT)))
    assert offenders == []
