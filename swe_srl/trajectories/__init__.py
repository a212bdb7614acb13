"""Expert trajectories: importers per format, the normalized format's IO, and SRL step instances.

- ``io``: ``write_trajectory`` / ``read_trajectory`` / ``iter_trajectories`` / ``write_jsonl``.
- ``importers``: SWE-agent (1.x and 0.x), SWE-smith chat, mini-swe-agent, OpenAI tool calls, ours;
  ``detect.detect_format`` picks one from a record's content.
- ``steps``: trajectories -> step instances -> train/validation JSONL + parquet.
"""

from __future__ import annotations

from swe_srl.trajectories.importers import import_paths, import_to_directory
from swe_srl.trajectories.io import (
    iter_trajectories,
    read_trajectory,
    trajectory_id,
    write_jsonl,
    write_trajectory,
)
from swe_srl.trajectories.steps import StepOptions, build_step_dataset, sft_completion, step_instances

__all__ = [
    "StepOptions",
    "build_step_dataset",
    "import_paths",
    "import_to_directory",
    "iter_trajectories",
    "read_trajectory",
    "sft_completion",
    "step_instances",
    "trajectory_id",
    "write_jsonl",
    "write_trajectory",
]
