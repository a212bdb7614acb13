"""Checks made before a run's first task, so a bad option costs one line instead of a run of errors.

Every command on the engine checks its options here before it writes anything: the executor and
its settings, the sandbox backend (and its engine), the policy (its source's own preflight: spec,
weights, endpoint), the instance ids asked for, and the output folder (:mod:`.runfolder`). A failed
check raises :class:`PreflightError`, one line that names the option; the CLI prints it and exits
non-zero. The backend check also runs on every node of a cluster as part of its readiness.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterable, Sequence

from swe_srl.engine.taxonomy import InfrastructureError, one_line
from swe_srl.records import SweSrlError, Task

BASE_IMAGE = "swe-srl/base:bookworm"


class PreflightError(SweSrlError, ValueError):
    """An option that cannot work; nothing has been run or written."""


def backend_problem(kind: str, images: Sequence[str] = (), needs_base: bool = True) -> str:
    """Why sandboxes of ``kind`` cannot start on this machine ("" when they can).

    Docker sandboxes run a task's ``images`` when present, else the base image (``needs_base``:
    some task has no image of its own).
    """
    from swe_srl.sandbox import SANDBOX_KINDS
    from swe_srl.sandbox.local import UNSAFE_ENV_VAR

    if kind not in SANDBOX_KINDS:
        return f"unknown sandbox {kind!r}; expected one of {', '.join(SANDBOX_KINDS)}"
    if kind == "local":
        unsafe = os.environ.get(UNSAFE_ENV_VAR, "") in ("1", "true", "yes")
        if not unsafe and shutil.which("bwrap") is None:
            return (
                "the local sandbox needs bubblewrap (apt-get install bubblewrap); use --sandbox docker, "
                f"or opt out of isolation explicitly with {UNSAFE_ENV_VAR}=1"
            )
        return ""
    return _docker_problem(images, needs_base)


def _docker_problem(images: Sequence[str], needs_base: bool) -> str:
    try:
        import docker

        client = docker.from_env(timeout=20)
        client.ping()
    except Exception as err:
        return f"no Docker engine reachable (DOCKER_HOST or the default socket): {one_line(err)}"
    present = {tag for image in client.images.list() for tag in image.tags}
    if (needs_base or not set(images) <= present) and BASE_IMAGE not in present:
        return f"the sandbox base image {BASE_IMAGE} is missing (build it: bash dockerfiles/build-base.sh)"
    return ""


def images_of(tasks: Sequence[Task]) -> tuple[tuple[str, ...], bool]:
    """(the tasks' own images, whether some task needs the base image)."""
    return tuple(sorted({t.image for t in tasks if t.image})), not tasks or any(not t.image for t in tasks)


def check_backend(kind: str, images: Sequence[str] = (), needs_base: bool = True) -> None:
    """A node's readiness check: raise the infrastructure error ``sandbox`` when ``kind`` cannot work."""
    problem = backend_problem(kind, images, needs_base)
    if problem:
        raise InfrastructureError(problem, "sandbox")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise PreflightError(message)


def check_sandbox(kind: str, tasks: Sequence[Task] = (), *, here: bool = True) -> None:
    """``--sandbox``: a known kind, and (``here``: tasks run on this machine) a working backend."""
    from swe_srl.sandbox import SANDBOX_KINDS

    require(
        kind in SANDBOX_KINDS,
        f"--sandbox {kind}: unknown sandbox; expected one of {', '.join(SANDBOX_KINDS)}",
    )
    problem = backend_problem(kind, *images_of(tasks)) if here else ""
    require(not problem, f"--sandbox {kind}: {problem}")


def check_engine(settings) -> None:
    """The executor and its settings (``EngineSettings``)."""
    from swe_srl.engine.executors import EXECUTORS

    require(
        settings.executor in EXECUTORS,
        f"--executor {settings.executor}: unknown executor; expected one of {', '.join(EXECUTORS)}",
    )
    require(settings.workers >= 1, f"--workers must be at least 1, got {settings.workers}")
    budget = settings.task_budget
    require(budget is None or budget > 0, f"--task-budget must be positive, got {budget}")
    if settings.executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise PreflightError("--executor ray needs Ray: pip install 'swe-srl[ray]'") from None
        check_ray_address(settings.ray_address)
    elif settings.ray_address:
        raise PreflightError("--ray-address is only used with --executor ray")


def check_ray_address(address: str | None, timeout: float = 5.0) -> None:
    """Something answers at ``host:port`` (Ray itself would keep retrying a dead address for minutes)."""
    if not address or address in ("auto", "local"):
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    require(
        bool(sep and host and port.isdigit()),
        f"--ray-address {address}: expected HOST:PORT or ray://HOST:PORT",
    )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise PreflightError(
            f"--ray-address {address}: nothing answers there ({err.strerror or err}); start the head with "
            "`ray start --head`"
        ) from None


def check_instances(wanted: Iterable[str], known: Iterable[str], suite: str) -> None:
    """Every instance id asked for exists in the suite."""
    missing = sorted(set(wanted) - set(known))
    shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    require(not missing, f"--instances: no task {shown} in {suite}")


def check_policy(source) -> None:
    """The policy source's own preflight (spec, weights, endpoint), as one line naming ``--policy``."""
    try:
        source.preflight()
    except Exception as err:
        raise PreflightError(f"--policy {source.spec}: {err}") from err


def sandbox_checks() -> list[tuple[str, bool, str]]:
    """``swe-srl doctor``: for each sandbox kind, (name, usable, why or what it runs on).

    A backend that passes the preflight is also tried: a sandbox of the bundled sample task starts
    and runs a command, so what only shows when a sandbox starts (a bind bubblewrap refuses, a
    missing account) shows here too.
    """
    from swe_srl.sandbox import make_sandbox
    from swe_srl.tasks import load_tasks

    found = []
    for kind in ("local", "docker"):
        problem = backend_problem(kind)
        if not problem:
            try:
                with make_sandbox(kind, load_tasks("sample")[0]) as sandbox:
                    result = sandbox.run("true", timeout=60)
                    detail = getattr(sandbox, "workspace_mode", "")
                if result.exit_code != 0:
                    problem = (
                        f"a sandbox started but `true` exited {result.exit_code}: {result.output[-200:]}"
                    )
            except Exception as err:  # what the user needs is the reason, whatever its type
                problem = f"a sandbox of the sample task did not start: {one_line(err)}"
        if problem:
            found.append((f"{kind} sandbox", False, problem))
        elif kind == "local":
            found.append(("local sandbox", True, f"bubblewrap, {detail} workspace" + _as_account()))
        else:
            found.append(("docker sandbox", True, f"engine reachable, {BASE_IMAGE} present"))
    return found


def _as_account() -> str:
    from swe_srl.sandbox.identity import SANDBOX_USER, USER_ENV_VAR

    if os.geteuid() != 0:
        return ", as this user"
    return f", as the account {os.environ.get(USER_ENV_VAR) or SANDBOX_USER}"
