"""Parity of observations with SWE-agent 1.0.1 (what SWE-smith's experts saw), scenario by scenario.

Every scenario runs in a real local sandbox (bubblewrap) on a fresh copy of a small repository.
Scenarios in ``KNOWN_DIFFERENCES`` are strict xfails: they fail the run if they start to match, so
the list and the README's parity score stay true.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from parity_scenarios import KNOWN_DIFFERENCES, MODULE, SCENARIOS, Scenario

from swe_srl.records import Task
from swe_srl.tools.executor import clear_editor_history, execute


def _source(root: Path) -> Path:
    src = root / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "mod.py").write_text(MODULE)
    (src / "pkg" / "sub" / "leaf.py").write_text("x = 1\n")
    (src / "pkg" / ".hidden").write_text("no\n")
    return src


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from swe_srl.sandbox import make_sandbox

    task = Task(
        "parity__demo-1", "demo/parity", "", "Parity.", repo_dir=str(_source(tmp_path_factory.mktemp("p")))
    )
    with make_sandbox("local", task) as box:
        yield box


def _observe(sandbox, scenario: Scenario) -> str:
    sandbox.reset()
    clear_editor_history(sandbox)
    for action in scenario.setup:
        execute(sandbox, action, timeout=30)
    return execute(sandbox, scenario.action, timeout=scenario.timeout).observation


def _param(scenario: Scenario):
    reason = KNOWN_DIFFERENCES.get(scenario.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(scenario, id=scenario.name, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_observation_matches_swe_agent(sandbox, scenario: Scenario):
    assert _observe(sandbox, scenario) == scenario.expected


def test_parity_score_is_what_the_readme_reports():
    matching = len(SCENARIOS) - len(KNOWN_DIFFERENCES)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{matching}/{len(SCENARIOS)} tool scenarios" in readme
    assert set(KNOWN_DIFFERENCES) <= {s.name for s in SCENARIOS}
