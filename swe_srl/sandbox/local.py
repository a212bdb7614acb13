"""The local sandbox: a per-episode copy of the base repository, commands under bubblewrap.

One ``bwrap`` per episode runs the persistent shell of :mod:`swe_srl.sandbox.shell` with no
network and no other namespaces shared (``--unshare-all``), ``/usr``, ``/etc`` (secrets hidden)
and the ``/bin``-style links read-only, the workspace read-write at ``/testbed``, private tmpfs
``/tmp`` and ``HOME=/root``, a fresh ``/proc`` and minimal ``/dev``, and a scrubbed environment.
``/usr/local`` is hidden so the tools inside are the distribution's, as in the base image.

``isolation=False`` (or ``SWE_SRL_UNSAFE_NO_SANDBOX=1``) is an explicit opt-out for machines
without bubblewrap: the same shell runs unsandboxed in the workspace directory, so commands see
the host, and absolute ``/testbed`` paths inside commands do not exist (the file API still maps
them). A timeout then kills only the command's process group.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from swe_srl.records import ExecResult, Task
from swe_srl.sandbox.base import DEFAULT_OUTPUT_LIMIT, TESTBED, IsolationUnavailable, SandboxError
from swe_srl.sandbox.limits import CgroupJail, PidsWatch, ResourceLimits, disk_watch, run_guarded
from swe_srl.sandbox.shell import BASE_ENV, CONTROL_DIR, GITCONFIG, SHELL_ARGV, ShellSession
from swe_srl.sandbox.workspace import head_of, prepare_base_repo

WORKSPACE_DIRNAME = "swe-srl-ws"
UNSAFE_ENV_VAR = "SWE_SRL_UNSAFE_NO_SANDBOX"
_SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers")
_SECRET_DIRS = ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d", "/etc/docker", "/etc/containerd")
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def workspace_root() -> Path:
    """Parent of every local sandbox's workspace (what ``swe-srl sandbox gc`` sweeps)."""
    return Path(tempfile.gettempdir()) / WORKSPACE_DIRNAME


class _PipeChannel:
    """The shell's stdin/stdout pipes of a child process."""

    def __init__(self, argv: list[str], cwd: str, log: Path, env: dict[str, str] | None = None):
        with open(log, "ab") as stderr:  # bwrap's own complaints, for start-up errors
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=cwd,
                env=env,
                start_new_session=True,  # its own session: a signal to our group never reaches it
            )

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv(self, timeout: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 1 << 16) if ready else None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def bwrap_argv(
    workspace: Path, gitconfig: Path, env: dict[str, str], tmpfs_bytes: int = ResourceLimits.tmpfs_bytes
) -> list[str]:
    """The bubblewrap command line that confines one episode's shell."""
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "testbed",
    ]
    argv += ["--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local", "--remount-ro", "/usr/local"]
    for path in _ROOT_LINKS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", "/etc", "/etc", "--ro-bind", str(gitconfig), "/etc/gitconfig"]
    argv += [arg for f in _SECRET_FILES if os.path.exists(f) for arg in ("--ro-bind", "/dev/null", f)]
    for d in _SECRET_DIRS:
        if os.path.isdir(d):
            argv += ["--tmpfs", d, "--remount-ro", d]
    size = ["--size", str(tmpfs_bytes)]  # an unsized tmpfs would grow into the host's RAM
    argv += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/tmp", *size, "--tmpfs", env["HOME"]]
    argv += [*size, "--tmpfs", CONTROL_DIR]
    argv += ["--bind", str(workspace), TESTBED, "--chdir", TESTBED, "--remount-ro", "/", "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return [*argv, *SHELL_ARGV]


def copy_repo(base: Path, dest: Path) -> None:
    """Copy a prepared repository into a fresh workspace (reflinks where the filesystem has them).

    Nothing is hardlinked, ``.git/objects`` included: the agent runs as root inside the sandbox, so a
    shared inode could be rewritten in place and would poison the cached base repository for every
    later episode. Episode creation pays the copy once; ``reset()`` works in place with git.
    """
    dest.mkdir(parents=True)
    entries = [str(p) for p in base.iterdir()]
    if entries:
        subprocess.run(["cp", "-a", "--reflink=auto", "-t", str(dest), *entries], check=True)


class LocalSandbox:
    """A :class:`~swe_srl.sandbox.base.Sandbox` on this machine, confined by bubblewrap."""

    kind = "local"

    def __init__(
        self,
        task: Task,
        *,
        isolation: bool | None = None,
        cache_root: Path | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        env: dict[str, str] | None = None,
        limits: ResourceLimits | None = None,
    ):
        if isolation is None:
            isolation = os.environ.get(UNSAFE_ENV_VAR, "") not in ("1", "true", "yes")
        if isolation and shutil.which("bwrap") is None:
            raise IsolationUnavailable(
                "the local sandbox needs bubblewrap ('bwrap' on PATH; apt-get install bubblewrap); "
                f"use the docker backend, or opt out of isolation explicitly with {UNSAFE_ENV_VAR}=1 "
                "or isolation=False (commands then run unconfined on this machine)"
            )
        self.task = task
        self.isolation = isolation
        self.output_limit = output_limit
        self.limits = limits or ResourceLimits()
        self._jail: CgroupJail | None = None
        self._pids_watch: PidsWatch | None = None
        self._closed = False
        base = prepare_base_repo(task, cache_root)
        self.base_commit = head_of(base)
        self.root = self._make_root(task)
        self.workspace = self.root / "testbed"
        copy_repo(base, self.workspace)
        (self.root / "gitconfig").write_text(GITCONFIG)
        self._env = {**BASE_ENV, **(env or {})}
        self._clean_env = dict(BASE_ENV)  # our own git commands ignore caller-supplied variables
        self._session = self._make_session()
        try:
            self._session.start()
        except SandboxError as exc:
            log = (self.root / "shell.log").read_text(errors="replace")[-2000:]
            self.close()
            raise SandboxError(f"local sandbox for {task.instance_id} did not start: {exc}\n{log}") from exc
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _make_root(task: Task) -> Path:
        parent = workspace_root()
        parent.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", task.instance_id)[:80]
        return Path(tempfile.mkdtemp(prefix=f"{safe}.{os.getpid()}.{int(time.time())}.", dir=parent))

    def _make_session(self) -> ShellSession:
        if self.isolation:
            bwrap = bwrap_argv(self.workspace, self.root / "gitconfig", self._env, self.limits.tmpfs_bytes)
            self._jail = CgroupJail(self.root.name, self.limits)  # pids and memory: see limits.py
            argv = self._jail.wrap(bwrap)
            self._pids_watch = self._jail.watch()
            return ShellSession(
                lambda: self._open_channel(argv, str(self.root), env={}),
                ctl_dir=CONTROL_DIR,
                pid_namespace=True,
                guard=disk_watch(self.workspace, self.limits),
            )
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        extra = {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(self.root / "gitconfig")}
        env = {**self._env, **extra}
        self._clean_env = {**BASE_ENV, **extra}
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *SHELL_ARGV]
        return ShellSession(
            lambda: self._open_channel(argv, str(self.workspace)),
            ctl_dir=str(self.root / "ctl"),
            home=str(self.workspace),
            pid_namespace=False,
            guard=disk_watch(self.workspace, self.limits),
        )

    def _open_channel(self, argv: list[str], cwd: str, env: dict[str, str] | None = None) -> _PipeChannel:
        # close() may come from another thread (a run engine reaping a task past its budget) while
        # a command waits; the shell it killed must not be started again.
        self._check_open()
        return _PipeChannel(argv, cwd, self.root / "shell.log", env=env)

    # -- commands ---------------------------------------------------------------------------
    def run(self, cmd: str, timeout: float = 60.0) -> ExecResult:
        self._check_open()
        watch, limit = self._pids_watch, self.limits.pids
        return run_guarded(self._session, watch, limit, cmd, timeout, self.output_limit)

    def diff(self) -> str:
        """``git diff`` of the workspace against the base commit, untracked files included."""
        self._check_open()
        return self._session.git_diff(self.base_commit, self._clean_env)

    def reset(self) -> None:
        """Restore the base commit in place; also kills leftover processes and resets shell state."""
        self._check_open()
        self._session.git_reset(self.base_commit, self._clean_env)

    def kill_processes(self) -> None:
        """End every process in the sandbox (the shell comes back in its initial state)."""
        self._check_open()
        self._session.reset_state()

    # -- files ------------------------------------------------------------------------------
    def host_path(self, path: str) -> Path:
        """Map a sandbox path to the workspace on this machine, refusing anything outside ``/testbed``."""
        return resolve_in_workspace(self.workspace, path)

    def read_file(self, path: str) -> bytes:
        self._check_open()
        target = self.host_path(path)
        try:
            fd = open_inside(self.workspace, target, os.O_RDONLY)
        except OSError as exc:
            raise SandboxError(f"cannot read {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def write_file(self, path: str, data: bytes | str) -> None:
        self._check_open()
        target = self.host_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = open_inside(self.workspace, target, os.O_WRONLY)
        except OSError as exc:
            raise SandboxError(f"cannot write {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.truncate(0)  # only now: the file is known to lie inside the workspace
            handle.write(data.encode() if isinstance(data, str) else data)

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
        if self._jail is not None:
            self._jail.release()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def open_inside(workspace: Path, target: Path, flags: int) -> int:
    """Open ``target`` and prove the opened file lies inside ``workspace``; return the descriptor.

    ``resolve_in_workspace`` checks the path, but a process in the sandbox may swap a component for
    a symlink between that check and the open. The descriptor's real path cannot be swapped, so it
    is checked after opening; a file this call created outside is removed again. Writers truncate
    only after this check.
    """
    created = False
    try:
        fd = os.open(target, flags | os.O_NOFOLLOW)
    except FileNotFoundError:
        if not flags & (os.O_WRONLY | os.O_RDWR):
            raise
        fd = os.open(target, flags | os.O_NOFOLLOW | os.O_CREAT | os.O_EXCL, 0o644)
        created = True
    real = os.path.realpath(f"/proc/self/fd/{fd}")
    root = os.path.realpath(workspace)
    if real != root and not real.startswith(root + os.sep):
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                os.unlink(real)
        raise SandboxError(f"{target} resolved outside the workspace (to {real}) while being opened")
    return fd


def resolve_in_workspace(workspace: Path, path: str, max_links: int = 40) -> Path:
    """Resolve ``path`` (absolute under /testbed, or relative to it) inside ``workspace``.

    Symlinks are followed by hand so that an absolute link to ``/testbed/x`` maps into the
    workspace, while any link leading outside it is refused.
    """
    if not path.startswith("/"):
        path = f"{TESTBED}/{path}"
    if path != TESTBED and not path.startswith(TESTBED + "/"):
        raise SandboxError(f"path {path} is outside {TESTBED}")
    pending = [p for p in path[len(TESTBED) :].split("/") if p]
    parts: list[str] = []
    links = 0
    while pending:
        name = pending.pop(0)
        if name == ".":
            continue
        if name == "..":
            if not parts:
                raise SandboxError(f"path {path} escapes {TESTBED}")
            parts.pop()
            continue
        candidate = workspace.joinpath(*parts, name)
        if candidate.is_symlink():
            links += 1
            if links > max_links:
                raise SandboxError(f"path {path}: too many symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                if target != TESTBED and not target.startswith(TESTBED + "/"):
                    raise SandboxError(f"path {path} leads outside {TESTBED} (symlink to {target})")
                parts = []
                target = target[len(TESTBED) :]
            pending = [p for p in target.split("/") if p] + pending
            continue
        parts.append(name)
    return workspace.joinpath(*parts)
