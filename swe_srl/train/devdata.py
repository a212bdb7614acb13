"""Small step-instance datasets for tests, benchmarks and the demo, built from our own trajectories.

The shipped expert trajectories of the small bundled suites (``trajectories/bundled`` and
``trajectories/sample`` at the repository root) are the source; the larger real-project set
(``trajectories/pypi``) is data for real runs, not part of this calibrated development set. The step
instances come out of the project's own builder (``swe_srl.trajectories.steps.build_step_dataset``),
so training code is exercised on exactly the data it sees in a real run.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAJECTORY_SUFFIXES = (".json", ".jsonl", ".traj", ".parquet")
DEV_SETS = ("bundled", "sample")  # folders of trajectories/ (and suites of envs/) the dev data uses


def trajectory_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in TRAJECTORY_SUFFIXES)


def default_sources() -> list[Path]:
    """The shipped expert trajectories of this checkout (none when installed without them)."""
    shipped = REPO_ROOT / "trajectories"
    files = trajectory_files(shipped) if shipped.is_dir() else []
    return [path for path in files if path.relative_to(shipped).parts[0] in DEV_SETS]


def build_steps(
    out: Path, sources: list[Path] | None = None, *, val_fraction: float = 0.2, seed: int = 0
) -> Path:
    """Cut ``sources`` (default: ``default_sources()``) into train/validation step instances under ``out``."""
    from swe_srl.trajectories.importers import import_paths
    from swe_srl.trajectories.steps import StepOptions, build_step_dataset

    files = sources if sources is not None else default_sources()
    if not files:
        raise FileNotFoundError("no trajectories found to build step instances from")
    options = StepOptions(validation_fraction=val_fraction, seed=seed)
    build_step_dataset(import_paths([str(p) for p in files]), out, options)
    return out
