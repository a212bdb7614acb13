"""The shipped `pypi` suite: its shape, and a small fixed sample validated on both backends.

The sample covers a `src/` layout whose test configuration needs a plugin (semver's `addopts` with
`--cov`), a mined real fix with its test patch, a third-party dependency (isodate on six),
parametrized ids with spaces (inflection) and a project run by `unittest` (cachetools, graded by
swebench's Django parser).
Building the sample's environments reaches the package index once; builds are cached.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from swe_srl.environments.reference import spec_for
from swe_srl.tasks import load_tasks, validate_task
from swe_srl.tasks.suites import envs_root

SAMPLE = (
    "python-semver__python-semver-3.0.2.synth-4f3ea414",
    "python-semver__python-semver-3.0.2.mined-30577cae",
    "gweis__isodate-0.6.1.synth-504d6546",
    "jpvanhal__inflection-0.5.1.synth-05d44d0d",
    "tkem__cachetools-5.3.3.synth-12ccc38b",
)


@pytest.fixture(scope="module")
def suite():
    return load_tasks("pypi")


def test_suite_shape(suite):
    environments = Counter(spec_for(t).name for t in suite)
    assert len(environments) >= 10 and len(suite) >= 100, environments
    origins = Counter(t.metadata["origin"] for t in suite)
    assert set(origins) == {"synthesized", "mined"}, origins
    for task in suite:
        assert task.FAIL_TO_PASS and task.setup_patch and task.patch, task.instance_id
        spec = spec_for(task)
        assert task.repo_dir == spec.repo_dir and all("==" in p for p in spec.packages)
    parsers = {spec_for(t).log_parser for t in suite}
    assert "pytest" in parsers and len(parsers) >= 2  # one project graded by a non-pytest parser
    assert any(" " in test for t in suite for test in t.FAIL_TO_PASS)  # parametrized ids with spaces


def test_problem_statements_never_show_the_bug(suite):
    for task in (t for t in suite if t.metadata["origin"] == "synthesized"):
        added = [line[1:].strip() for line in task.setup_patch.splitlines() if line.startswith("+")]
        added = [line for line in added if len(line) > 12 and not line.startswith("++")]
        leaked = [line for line in added if line in task.problem_statement]
        assert not leaked, (task.instance_id, leaked)


def test_sources_are_pinned(suite):
    projects = json.loads((envs_root() / "pypi" / "projects.json").read_text())["projects"]
    assert all(len(p["sha256"]) == 64 for p in projects)
    for task in suite:
        assert spec_for(task).source["sha256"] in {p["sha256"] for p in projects}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.parametrize("instance_id", SAMPLE)
def test_sample_validates(suite, kind, instance_id):
    task = next(t for t in suite if t.instance_id == instance_id)
    result = validate_task(task, kind)
    assert result.valid, result.problems


def test_source_trees_are_committed_whole():
    """A fresh clone must hold every file of each sdist, or base commits and environment keys change."""
    import shutil
    import subprocess

    root = envs_root() / "pypi" / "repos"
    if shutil.which("git") is None or not (envs_root().parent / ".git").exists():
        pytest.skip("not a git checkout")
    left_out = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert left_out == []


def test_shipped_expert_trajectories_cover_the_suite(suite):
    """`swe-srl rollout --policy expert --keep resolved` on `pypi`: resolved episodes on real projects."""
    from swe_srl.trajectories.io import read_trajectory

    folder = envs_root().parent / "trajectories" / "pypi"
    by_id = {t.instance_id: t for t in suite}
    files = sorted(folder.glob("*.traj.json"))
    assert len(files) >= len(suite) // 2
    projects = set()
    for path in files:
        traj = read_trajectory(path)
        task = by_id[traj.instance_id]
        assert traj.resolved is True and traj.steps and traj.steps[-1].action.tool == "submit"
        assert traj.final_patch.strip() and traj.problem_statement == task.problem_statement
        projects.add(spec_for(task).name)
    assert len(projects) >= 7


@pytest.mark.slow
def test_a_shipped_pypi_trajectory_replays_and_resolves(suite):
    from swe_srl.trajectories.io import read_trajectory
    from swe_srl.trajectories.replay_check import replay_check

    task = next(t for t in suite if t.instance_id == SAMPLE[0])
    traj = read_trajectory(envs_root().parent / "trajectories" / "pypi" / f"{task.instance_id}.traj.json")
    report = replay_check(traj, task, "local")
    assert report.resolved is True and report.patch_identical
