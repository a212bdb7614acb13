"""The Docker sandbox: one container per episode, commands through one persistent shell.

The container runs the task's image when it exists locally (SWE-bench images hold the repository
at ``/testbed``), otherwise ``swe-srl/base:bookworm`` with the prepared base repository copied in
(``.git`` included). It has no network, and memory, process and CPU limits, and carries labels
(``swe-srl.sandbox=1``, ``swe-srl.created``, ``swe-srl.instance``) so ``swe-srl sandbox gc`` can
find leftovers. Commands go through the shell of :mod:`swe_srl.sandbox.shell`, attached once to
an ``exec`` of bash over the engine's socket, so a step costs a write and a read, not an exec.

Root in the container is the engine's business (rootless and userns-remap engines map it to an
unprivileged host user); the sandbox adds what it can ask of any engine: the default seccomp
profile stays on, every capability the tools do not need is dropped (:data:`CAPABILITIES` are
kept), and ``no-new-privileges`` stops setuid binaries from regaining any.

``reset()`` replaces the container with a fresh one from the same image (the old one is removed in
the background): root in the container could change anything in it, site-packages and ``.git``
included, so nothing short of a new container keeps one episode from preparing the next. If the
shell dies it is restarted; if the container itself is gone (killed, engine restarted) every
operation of the episode raises :class:`SandboxError` instead of silently starting over, until
``reset()`` starts the next episode in a new container.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import threading
import time
from pathlib import Path
from typing import Any

from swe_srl.environments.images import build_env_image, env_image_name, setup_script
from swe_srl.environments.mount import task_environment
from swe_srl.records import ExecResult, Task
from swe_srl.sandbox.base import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_READ_LIMIT,
    PATCH_LIMIT_BYTES,
    TESTBED,
    FileTooLarge,
    SandboxError,
)
from swe_srl.sandbox.docker_io import KILL_EVERY_PROCESS, ExecChannel, read_archive, write_archive
from swe_srl.sandbox.gitops import git_diff
from swe_srl.sandbox.limits import (
    PidsWatch,
    ResourceLimits,
    disk_watch,
    docker_pids_events,
    run_guarded,
)
from swe_srl.sandbox.shell import BASE_ENV, CONTROL_DIR, ShellSession
from swe_srl.sandbox.workspace import head_of, prepare_base_repo, repo_tarball

BASE_IMAGE = "swe-srl/base:bookworm"
LABEL = "swe-srl.sandbox"
OWNER_LABEL = "swe-srl.owner"  # host:pid of the process that made it, so gc spares live runs
# What root in the container keeps. Measured: neither the harness (shell, editor, git, kill_processes) nor
# the bundled suite's grading needs any capability; these stay so that repositories' test suites, which
# run as root in SWE-bench images, keep root's usual powers (chown, chmod or write files they do not
# own, switch users and signal what they started as another user). Dropped from Docker's default set:
# NET_RAW, NET_BIND_SERVICE (no network anyway), MKNOD, SYS_CHROOT, SETFCAP, SETPCAP, AUDIT_WRITE.
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID")
SECURITY_OPT = ("no-new-privileges",)  # the engine's default seccomp profile stays as it is


# Engine address -> its data root, which does not change while the engine runs.
_DATA_ROOTS: dict[str, Path] = {}


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# pid 1 reaps orphans and survives the in-sandbox `kill -KILL -1` that ends a timed-out command.
_INIT = ["bash", "-c", "trap 'exit 0' TERM; while :; do sleep 86400 & wait $!; done"]


def _remove_quietly(container: Any) -> None:
    # Failing here means it is already gone; `swe-srl sandbox gc` sweeps anything left.
    with contextlib.suppress(Exception):
        container.remove(force=True)


def _docker_client() -> Any:
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise SandboxError(f"no Docker engine reachable (DOCKER_HOST or the default socket): {exc}") from exc
    return client


class DockerSandbox:
    """A :class:`~swe_srl.sandbox.base.Sandbox` in a Docker container with a persistent shell."""

    kind = "docker"

    def __init__(
        self,
        task: Task,
        *,
        image: str | None = None,
        cache_root: Path | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        mem_limit: str = "4g",
        pids_limit: int = 4096,
        cpus: float = 2.0,
        env: dict[str, str] | None = None,
        client: Any = None,
        limits: ResourceLimits | None = None,
    ):
        self.task = task
        self.output_limit = output_limit
        self._closed = False
        self.container: Any = None
        if limits is not None:  # the local backend's limits, applied the Docker way
            mem_limit, pids_limit = limits.memory_bytes, limits.pids
        self.limits = limits or ResourceLimits()
        self._pids_limit = pids_limit
        self._pids_watch: PidsWatch | None = None
        self._own_client = client is None  # ours to close: its connection pool holds sockets
        self.client = client or _docker_client()
        self.environment = task_environment(task, cache_root)
        self.image = image or self._pick_image(task)
        self._clean_env = {**BASE_ENV, **self._image_path()}  # for our own git commands
        variables = self.environment.variables if self.environment is not None else {}
        self._env = {**self._clean_env, **variables, **(env or {})}
        self._options = {
            "command": _INIT,
            "detach": True,
            "network_mode": "none",
            "mem_limit": mem_limit,
            "pids_limit": pids_limit,
            "ulimits": self._ulimits(),
            "nano_cpus": int(cpus * 1e9),
            "hostname": "testbed",
            "working_dir": "/",
            "cap_drop": ["ALL"],
            "cap_add": list(CAPABILITIES),
            "security_opt": list(SECURITY_OPT),
        }
        self._cache_root = cache_root
        self._removals: list[threading.Thread] = []
        try:
            self._start_container()
            guard = disk_watch(self._data_root(), self.limits)
            self._session = ShellSession(
                self._open_channel, ctl_dir=CONTROL_DIR, pid_namespace=True, guard=guard
            )
            self._session.start()
        except BaseException:
            self.close()
            raise

    def _start_container(self) -> None:
        """Create, fill and start a fresh container for the task; it becomes ``self.container``."""
        labels = {
            LABEL: "1",
            "swe-srl.created": str(int(time.time())),
            "swe-srl.instance": self.task.instance_id,
            OWNER_LABEL: owner_id(),
        }
        self.container = self.client.containers.create(self.image, labels=labels, **self._options)
        self.base_commit = self._install_repo(self.task, self._cache_root)
        self.container.start()
        if self.environment is not None and self.image == env_image_name(self.environment):
            self._commit_setup_patch(self.task, self._cache_root)
        self._pids_watch = PidsWatch(docker_pids_events(self.container.id))  # engine on this machine

    def _data_root(self) -> Path | None:
        """Where the engine keeps containers' writable layers, when it runs on this machine."""
        if not self._pids_watch or not self._pids_watch.files:
            return None  # a remote engine (DOCKER_HOST): its disk is not ours to watch
        engine = self.client.api.base_url
        if engine not in _DATA_ROOTS:  # `info` costs ~10 ms, a few percent of a sandbox's start
            try:
                _DATA_ROOTS[engine] = Path(self.client.info()["DockerRootDir"])
            except Exception:
                return None
        return _DATA_ROOTS[engine]

    def _ulimits(self) -> list[Any]:
        """File size and open files: without a storage quota, fsize keeps one file from filling the disk."""
        import docker

        fsize, nofile = self.limits.file_size_bytes, self.limits.open_files
        return [
            docker.types.Ulimit(name="fsize", soft=fsize, hard=fsize),
            docker.types.Ulimit(name="nofile", soft=nofile, hard=nofile),
        ]

    def _pick_image(self, task: Task) -> str:
        """The task's own image; else its environment's (built when missing); else the base image."""
        import docker

        if task.image:
            try:
                self.client.images.get(task.image)
                return task.image
            except docker.errors.ImageNotFound:
                raise SandboxError(
                    f"task {task.instance_id}: image {task.image!r} does not exist on this Docker engine "
                    "(build it with `swe-srl images build`, or pull it where a registry is reachable)"
                ) from None
        if self.environment is not None:
            return build_env_image(self.environment)
        return BASE_IMAGE

    def _commit_setup_patch(self, task: Task, cache_root: Path | None) -> None:
        """Commit the setup patch over the environment image's /testbed: the task's thin layer."""
        result = self.container.exec_run(["bash", "-c", setup_script(task)], environment=BASE_ENV)
        head = result.output.decode(errors="replace").strip().splitlines()[-1:] or [""]
        if result.exit_code != 0 or head[0] != self.base_commit:
            raise SandboxError(
                f"task {task.instance_id}: committing its setup patch in environment image {self.image} "
                f"gave {head[0] or 'nothing'}, expected base commit {self.base_commit}: "
                f"{result.output.decode(errors='replace')[-1000:]}"
            )

    def _image_path(self) -> dict[str, str]:
        """A task image's own PATH (e.g. a conda environment) replaces the default one."""
        if self.image == BASE_IMAGE:
            return {}
        env = self.client.images.get(self.image).attrs.get("Config", {}).get("Env") or []
        return {k: v for k, _, v in (e.partition("=") for e in env) if k == "PATH"}

    def _install_repo(self, task: Task, cache_root: Path | None) -> str:
        if self.environment is not None and self.image == env_image_name(self.environment):
            return head_of(prepare_base_repo(task, cache_root))  # what the setup commit must produce
        if self.image != BASE_IMAGE:
            return task.base_commit  # the task image holds the repository at its base commit
        repo = prepare_base_repo(task, cache_root)
        with open(repo_tarball(repo), "rb") as tar:
            if not self.container.put_archive("/", tar):
                raise SandboxError(f"could not copy the repository of {task.instance_id} into the container")
        return head_of(repo)

    def _open_channel(self) -> ExecChannel:
        try:
            self.container.reload()
        except Exception as exc:  # the engine's NotFound, or no engine at all (requests' ConnectionError)
            raise SandboxError(
                f"container {self.container.short_id} of {self.task.instance_id} is unreachable ({exc}): "
                "it was removed from outside or the engine is down; start a new sandbox"
            ) from exc
        if self.container.status != "running":
            raise SandboxError(
                f"container {self.container.short_id} of {self.task.instance_id} is {self.container.status}: "
                "it was stopped or killed from outside (or the engine restarted); start a new sandbox"
            )
        try:
            return ExecChannel(self.client, self.container, self._env)
        except Exception as exc:  # it died between the check and the exec
            raise SandboxError(f"cannot attach to container {self.container.short_id}: {exc}") from exc

    # -- commands ---------------------------------------------------------------------------
    def run(self, cmd: str, timeout: float = 60.0) -> ExecResult:
        self._check_open()
        watch, limit = self._pids_watch, self._pids_limit
        return run_guarded(self._session, watch, limit, cmd, timeout, self.output_limit)

    def _raw(self, script: str, what: str) -> str:
        return self._session.run_clean(script, self._clean_env, f"{what} in {self.task.instance_id}")

    def diff(self) -> str:
        self._check_open()
        base = self.base_commit or "HEAD"
        return git_diff(self._session, base, self._clean_env, PATCH_LIMIT_BYTES, self.kill_processes)

    def reset(self) -> None:
        """A new episode in a new container: nothing the last one changed, anywhere, survives."""
        self._check_open()
        old = self.container
        self._session.discard()
        removal = threading.Thread(target=_remove_quietly, args=(old,), name="swe-srl-rm", daemon=True)
        removal.start()
        self._removals = [t for t in self._removals if t.is_alive()] + [removal]
        self._start_container()
        self._session.start()

    def kill_processes(self) -> None:
        """Kill every process but the container's init, and wait until none is left."""
        self._check_open()
        self._session.discard()
        try:
            code, _ = self.container.exec_run(["bash", "-c", KILL_EVERY_PROCESS])
        except Exception as exc:
            raise SandboxError(f"cannot kill the processes of {self.task.instance_id}: {exc}") from exc
        if code != 0:
            raise SandboxError(f"processes of {self.task.instance_id} survived 500 rounds of SIGKILL")

    # -- files ------------------------------------------------------------------------------
    def _resolve(self, path: str, *, make_parent: bool = False) -> tuple[str, str, str, int]:
        """Resolve ``path`` inside the container (symlinks followed): (path, mode, file type, size).

        A missing file reads as mode 644, type ``missing``, size 0.
        """
        if not path.startswith("/"):
            path = f"{TESTBED}/{path}"
        if path != TESTBED and not path.startswith(TESTBED + "/"):
            raise SandboxError(f"path {path} is outside {TESTBED}")
        mkdir = 'mkdir -p -- "$(dirname -- "$p")" && ' if make_parent else ""
        script = (
            f'p=$(realpath -m -- {shlex.quote(path)}) && case "$p" in {TESTBED}|{TESTBED}/*) ;; '
            f'*) echo "outside: $p"; exit 3;; esac && {mkdir}'
            'printf "%s\\n%s" "$p" "$(stat -c "%a|%F|%s" -- "$p" 2>/dev/null || echo "644|missing|0")"'
        )
        try:
            resolved, _, facts = self._raw(script, f"resolving {path}").partition("\n")
            mode, kind, size = facts.split("|")
        except (SandboxError, ValueError) as exc:
            raise SandboxError(f"path {path} leads outside {TESTBED} or cannot be resolved") from exc
        return resolved, mode, kind, int(size)

    def read_file(self, path: str, max_bytes: int = DEFAULT_READ_LIMIT) -> bytes:
        self._check_open()
        resolved, _, kind, size = self._resolve(path)
        if kind == "missing":
            raise SandboxError(f"cannot read {path}: no such file")
        if not kind.startswith("regular"):
            raise SandboxError(f"cannot read {path}: not a regular file ({kind})")
        if size > max_bytes:
            raise FileTooLarge(path, size, max_bytes)
        return read_archive(self.container, resolved, path, max_bytes)

    def write_file(self, path: str, data: bytes | str) -> None:
        self._check_open()
        resolved, mode, kind, _ = self._resolve(path, make_parent=True)
        if kind != "missing" and not kind.startswith("regular"):
            raise SandboxError(f"cannot write {path}: not a regular file ({kind})")
        payload = data.encode() if isinstance(data, str) else data
        write_archive(self.container, resolved, payload, mode, path)

    # -- lifetime ---------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError(f"sandbox for {self.task.instance_id} is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        session = getattr(self, "_session", None)
        if session is not None:
            session.detach()
        if self.container is not None:
            _remove_quietly(self.container)
        for removal in getattr(self, "_removals", []):
            removal.join(timeout=60)  # the previous episodes' containers, removed in the background
        if getattr(self, "_own_client", False):
            with contextlib.suppress(Exception):
                self.client.close()

    def __enter__(self) -> DockerSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
