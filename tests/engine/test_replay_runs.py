"""``trajectories replay-check`` over many trajectories on the engine: several at once, each reported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from engine_helpers import CLI

SHIPPED = Path(__file__).resolve().parents[2] / "trajectories" / "bundled"


def test_replay_check_runs_trajectories_in_parallel_and_reports_each(tmp_path):
    chosen = sorted(SHIPPED.glob("*.traj.json"))[:3]
    folder = tmp_path / "trajectories"
    folder.mkdir()
    for path in chosen:
        (folder / path.name).write_bytes(path.read_bytes())
    report = tmp_path / "replay.json"
    proc = subprocess.run(
        [
            CLI,
            "trajectories",
            "replay-check",
            str(folder),
            "--tasks",
            "bundled",
            "--workers",
            "2",
            "--quiet",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reports = json.loads(report.read_text())
    assert len(reports) == 3 and all(r["resolved"] is True for r in reports)
    assert {r["instance_id"] for r in reports} == {json.loads(p.read_text())["instance_id"] for p in chosen}
    assert proc.stdout.count("steps identical") == 3
