"""What a sandbox needs to run a task inside its environment, on either backend.

Locally: the base root filesystem's ``/usr`` and ``/etc`` bound over the host's, and the built
virtual environment bound read-only at ``/opt/swe-srl/venv``. In Docker: the environment's image
(base image + the same virtual environment + ``/testbed`` at the environment's source tree), with
the task's setup patch committed on top when the container starts. Both get the same variables:
``PATH`` with the virtual environment first, ``VIRTUAL_ENV``, and the spec's own (``NO_COLOR``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swe_srl.environments.build import SYSTEM_PATH, VENV, BuiltEnv, build_environment
from swe_srl.environments.reference import spec_for
from swe_srl.environments.spec import EnvSpec
from swe_srl.records import Task


@dataclass(frozen=True)
class TaskEnvironment:
    """A task's built environment, as the sandboxes use it."""

    spec: EnvSpec
    built: BuiltEnv

    @property
    def variables(self) -> dict[str, str]:
        """Variables every command in the sandbox starts with (on top of the sandbox's base set)."""
        return {"PATH": f"{VENV}/bin:{SYSTEM_PATH}", "VIRTUAL_ENV": VENV, **self.spec.env}

    @property
    def rootfs(self) -> Path:
        return self.built.rootfs

    def read_only_binds(self) -> list[tuple[str, str]]:
        """(host path, sandbox path) pairs the local sandbox binds read-only, over its host binds.

        The root filesystem's ``/usr`` and ``/etc`` replace the host's (bound later, they cover
        them, the host's secrets included), then the virtual environment.
        """
        usr, etc = self.built.rootfs / "usr", self.built.rootfs / "etc"
        return [(str(usr), "/usr"), (str(etc), "/etc"), (str(self.built.venv), VENV)]


def task_environment(task: Task, cache_root: Path | None = None) -> TaskEnvironment | None:
    """The built environment ``task`` names (built now if it is not cached), or None when it names none."""
    spec = spec_for(task)
    if spec is None:
        return None
    return TaskEnvironment(spec, build_environment(spec, cache_root=cache_root))
