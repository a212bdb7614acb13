"""Rebuild the `pypi` suite from pinned sdists: `python envs/pypi/build.py [--only NAME ...]`.

For every project of projects.json: download its sdist (pinned version and sha256), unpack it once
into repos/<name>-<version>, resolve and pin its environment into environments.jsonl, synthesize bugs
its own tests catch (seeded) and mine real fixes from the earlier releases it names, then merge the
rows into tasks.jsonl. Needs the package index (pip's configuration on this machine) and bubblewrap.
Validate afterwards with `swe-srl tasks validate pypi` (see README.md beside this file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from swe_srl.tasks.synth.project import project_from_dict
from swe_srl.tasks.synth.suite import build_project

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="only this project (repeatable)")
    parser.add_argument("--sandbox", default="local", help="sandbox kind the tests run in")
    parser.add_argument("--no-mine", action="store_true", help="synthesize only")
    parser.add_argument("--no-synth", action="store_true", help="mine only")
    args = parser.parse_args()
    data = json.loads((HERE / "projects.json").read_text())
    seed = int(data.get("seed", 0))
    for raw in data["projects"]:
        config = project_from_dict(raw, source=str(HERE / "projects.json"))
        if args.only and config.name not in args.only:
            continue
        rows = build_project(
            config,
            HERE,
            seed=seed,
            sandbox_kind=args.sandbox,
            mine=not args.no_mine,
            synth=not args.no_synth,
            progress=print,
        )
        print(f"{config.env_name}: {len(rows)} task(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
