"""swe-srl's own normalized format (``Trajectory.to_dict()``), read back with validation."""

from __future__ import annotations

from typing import Any

from swe_srl.records import Trajectory
from swe_srl.trajectories.importers.common import Where
from swe_srl.trajectories.io import trajectory_from_dict

FORMAT = "swe-srl"


def is_native(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("steps"), list) and "instance_id" in data


def import_native(data: Any, where: Where) -> Trajectory:
    return trajectory_from_dict(data, source=where.source, record=where.record)
