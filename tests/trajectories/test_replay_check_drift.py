"""Replay check of the shipped sample trajectory: a drift behind a harmless timing difference is named."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from swe_srl.tasks import load_tasks
from swe_srl.trajectories.io import read_trajectory
from swe_srl.trajectories.replay_check import replay_check, replay_table

SAMPLE = (
    Path(__file__).resolve().parent.parent.parent / "trajectories" / "sample" / "swe-srl__durata-1.traj.json"
)


def test_a_drift_after_a_timing_difference_is_named():
    task, shipped = load_tasks("sample")[0], read_trajectory(SAMPLE)
    steps = [dataclasses.replace(s) for s in shipped.steps]
    timed = next(i for i, s in enumerate(steps) if re.search(r" in \d+\.\d+s", s.observation))
    steps[timed] = dataclasses.replace(
        steps[timed], observation=re.sub(r" in \d+\.\d+s", " in 97.25s", steps[timed].observation)
    )
    later = next(i for i in range(timed + 1, len(steps)) if steps[i].action.tool == "bash")
    steps[later] = dataclasses.replace(steps[later], observation="a file the repository never had")
    report = replay_check(dataclasses.replace(shipped, steps=steps), task, "local", grade=False)
    first, drift = report.first_divergence, report.first_drift
    assert (first.step, first.divergence.kind) == (timed, "nondeterministic")
    assert (drift.step, drift.divergence.kind) == (later, "drift")
    assert drift.divergence.recorded_line == "a file the repository never had"
    assert f"first drift: step {later + 1} (drift:" in replay_table(report).caption
    assert report.to_dict()["first_drift"]["step"] == later
