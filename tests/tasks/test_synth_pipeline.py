"""`tasks synth` and `tasks mine` on real projects reproduce the shipped `pypi` tasks exactly.

Same pinned sdist, same environment, same seed: the first bugs kept are the suite's own, byte for
byte (setup patch, gold patch, test lists, problem statement). Needs the package index once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.environments.spec import read_environments
from swe_srl.tasks.suites import envs_root
from swe_srl.tasks.synth.mine import FileChange, changes_between, is_test_path
from swe_srl.tasks.synth.pipeline import candidates, source_files, unified_diff
from swe_srl.tasks.synth.project import project_from_dict

SUITE = envs_root() / "pypi"
COMPARED = ("setup_patch", "patch", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS", "problem_statement")


def _project(name: str):
    data = json.loads((SUITE / "projects.json").read_text())
    return project_from_dict(next(p for p in data["projects"] if p["name"] == name)), data["seed"]


def _shipped(env_name: str, origin: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in (SUITE / "tasks.jsonl").read_text().splitlines()]
    return {
        r["instance_id"]: r
        for r in rows
        if r["environment"] == env_name and r["metadata"]["origin"] == origin
    }


def test_candidate_order_is_seeded_and_cycles_operators():
    config, seed = _project("inflection")
    tree = SUITE / "repos" / config.env_name
    assert source_files(tree, config) == ["inflection/__init__.py"]
    first = [c.mutation for c, _ in zip(candidates(tree, config, seed), range(12), strict=False)]
    again = [c.mutation for c, _ in zip(candidates(tree, config, seed), range(12), strict=False)]
    other = [c.mutation for c, _ in zip(candidates(tree, config, seed + 1), range(12), strict=False)]
    assert first == again != other
    assert len({m.operator for m in first[:9]}) == 9  # one of each operator before any repeats


def test_diffs_apply_both_ways_and_test_files_are_recognised(tmp_path):
    change = FileChange("pkg/mod.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    assert change.diff() == unified_diff("pkg/mod.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    assert change.reverse().reverse() == change and "+b = 2" in change.reverse().diff()
    assert FileChange("tests/test_new.py", "", "x = 1\n").diff().startswith("--- /dev/null")
    assert [is_test_path(p) for p in ("tests/a.py", "pkg/test_x.py", "pkg/x_test.py", "pkg/conftest.py")] == [
        True
    ] * 4
    assert not is_test_path("pkg/testing_utils.py") and not is_test_path("src/pkg/core.py")
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "m.py").write_text("x = 1\n")
    (tmp_path / "new" / "m.py").write_text("x = 2\n")
    (tmp_path / "new" / "n.py").write_text("y = 1\n")
    assert [c.path for c in changes_between(tmp_path / "old", tmp_path / "new")] == ["m.py", "n.py"]


@pytest.mark.slow
def test_synth_reproduces_the_shipped_tasks():
    from dataclasses import replace

    from swe_srl.tasks.synth.pipeline import synthesize

    config, seed = _project("inflection")
    spec = read_environments(SUITE / "environments.jsonl")[config.env_name]
    rows = synthesize(replace(config, synth=2), spec, SUITE, seed=seed)
    shipped = _shipped(config.env_name, "synthesized")
    assert len(rows) == 2
    for row in rows:
        assert row["instance_id"] in shipped
        assert {k: row[k] for k in COMPARED} == {k: shipped[row["instance_id"]][k] for k in COMPARED}


@pytest.mark.slow
def test_mine_finds_the_real_fix_between_releases():
    from swe_srl.tasks.synth.mine import mine_fixes
    from swe_srl.tasks.synth.suite import default_download_cache

    config, _ = _project("semver")
    spec = read_environments(SUITE / "environments.jsonl")[config.env_name]
    rows = mine_fixes(config, spec, config.mine_from[0], SUITE, cache=default_download_cache())
    shipped = _shipped(config.env_name, "mined")
    assert rows and {r["instance_id"] for r in rows} <= set(shipped)
    for row in rows:
        assert {k: row[k] for k in COMPARED} == {k: shipped[row["instance_id"]][k] for k in COMPARED}
        assert row["metadata"]["from_version"] == "3.0.1" and Path(row["metadata"]["file"]).suffix == ".py"


@pytest.mark.slow
def test_mine_cli_names_the_plugin_addopts_need_and_reruns_with_it(tmp_path):
    """semver's addopts need pytest-cov loaded (autoload is off): without `--pytest-plugin` the
    command says in one line that the tests did not run; the corrected command, rerun into the
    same folder, records the plugin in the environment and mines the fix."""
    from typer.testing import CliRunner

    from swe_srl.cli import app

    out = tmp_path / "my-suite"
    base = ["tasks", "mine", "semver==3.0.2", "--from", "3.0.1", "--repo", "python-semver/python-semver"]
    base += ["--out", str(out), "--test-package", "pytest==8.3.3", "--test-package", "pytest-cov==5.0.0"]
    failed = CliRunner().invoke(app, base)
    assert failed.exit_code == 2, failed.output
    assert "error: semver-3.0.2: the release's own tests did not run" in failed.output
    assert "Traceback" not in failed.output
    mined = CliRunner().invoke(app, [*base, "--pytest-plugin", "pytest_cov"])
    assert mined.exit_code == 0, mined.output
    assert read_environments(out / "environments.jsonl")["semver-3.0.2"].pytest_plugins == ("pytest_cov",)
    rows = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert rows and all(r["metadata"]["origin"] == "mined" for r in rows)
