"""Build the environments a set of tasks needs, each once: what ``swe-srl envs build`` and a run engine call.

``ensure_environments(tasks)`` collects the distinct specs the tasks name (100 tasks over 10
environments build 10), builds what the cache lacks, and reports each one; a failure is reported,
not raised, so one broken environment does not stop the others (its tasks then fail with the reason).
Call it once per machine (node) before running tasks there.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from swe_srl.environments.build import (
    EnvironmentUnavailable,
    build_environment,
    load_built,
)
from swe_srl.environments.reference import spec_for
from swe_srl.environments.spec import EnvSpec
from swe_srl.records import SweSrlError, Task


@dataclass(frozen=True)
class EnvBuildResult:
    """One environment's outcome: ``cached``, ``built``, ``unavailable`` or ``failed`` (with why)."""

    name: str
    key: str
    status: str
    tasks: int
    seconds: float = 0.0
    image: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("cached", "built")


def specs_of(tasks: Iterable[Task]) -> list[tuple[EnvSpec, int]]:
    """The distinct environment specs ``tasks`` name, with how many tasks use each, in first-seen order."""
    found: dict[str, tuple[EnvSpec, int]] = {}
    for task in tasks:
        spec = spec_for(task)
        if spec is not None:
            previous = found.get(spec.build_key())
            found[spec.build_key()] = (spec, previous[1] + 1 if previous else 1)
    return list(found.values())


def ensure_environment(
    spec: EnvSpec,
    *,
    docker: bool = False,
    force: bool = False,
    cache_root: Path | None = None,
    tasks: int = 0,
) -> EnvBuildResult:
    """Build one environment (and its Docker image when ``docker``) unless cached; never raises."""
    start = time.monotonic()
    key = spec.build_key()
    status = "cached" if not force and load_built(spec, cache_root) is not None else "built"
    try:
        built = build_environment(spec, cache_root=cache_root, force=force)
        image = ""
        if docker:
            from swe_srl.environments.images import build_env_image
            from swe_srl.environments.mount import TaskEnvironment

            image = build_env_image(TaskEnvironment(spec, built), force=force)
    except EnvironmentUnavailable as exc:
        return EnvBuildResult(spec.name, key, "unavailable", tasks, time.monotonic() - start, error=str(exc))
    except (SweSrlError, OSError) as exc:
        return EnvBuildResult(spec.name, key, "failed", tasks, time.monotonic() - start, error=str(exc))
    return EnvBuildResult(spec.name, key, status, tasks, round(time.monotonic() - start, 2), image)


def ensure_environments(
    tasks: Iterable[Task], *, docker: bool = False, force: bool = False, cache_root: Path | None = None
) -> list[EnvBuildResult]:
    """Build every environment ``tasks`` name, once each (see the module docstring)."""
    return [
        ensure_environment(spec, docker=docker, force=force, cache_root=cache_root, tasks=count)
        for spec, count in specs_of(tasks)
    ]
