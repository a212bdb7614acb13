"""The local sandbox: the base repository at ``/testbed`` for each episode, commands under bubblewrap.

One ``bwrap`` per episode (:mod:`swe_srl.sandbox.bwrap`) runs the persistent shell of
:mod:`swe_srl.sandbox.shell` with no network and no other namespaces shared, the host's ``/usr`` and
``/etc`` read-only (secrets hidden, ``/usr/local`` too, so the tools inside are the distribution's, as
in the base image), the workspace read-write at ``/testbed``, private sized tmpfs ``/tmp``,
``HOME=/root`` and control directory, and a scrubbed environment.

Root inside is not root outside: bubblewrap runs as an unprivileged host user
(:mod:`swe_srl.sandbox.identity`) whose uid it maps to 0 inside, with every capability dropped and
no further user namespaces, so nothing inside can mount, unmount, or write what that user cannot.
The harness, still root, first puts the process in a cgroup the sandbox cannot write (processes and
memory, :mod:`swe_srl.sandbox.limits`), then drops to the user and ``exec``-s bubblewrap.

The workspace is an overlay (:mod:`swe_srl.sandbox.overlay`) when swe-srl runs as root with a
sandbox account: the pristine repository below, the episode's changes above, nothing copied, so a
sandbox starts in the same time on a repository of 6,000 files as on one of 6. Otherwise (swe-srl
unprivileged, no overlay support, or ``workspace="copy"``) it is a copy of the cached repository.

``reset()`` kills every process (bubblewrap's pid namespace dies with it, and the tmpfs mounts with
it), then mounts a fresh upper layer over the pristine tree (overlay), or puts back the pristine
``.git`` from the cache and the tree's shape (:mod:`swe_srl.sandbox.tree`) and restores the files
with git run inside the sandbox (copy), and starts a fresh shell, so no state of one episode reaches
the next.

``isolation=False`` (or ``SWE_SRL_UNSAFE_NO_SANDBOX=1``) is an explicit opt-out for machines
without bubblewrap: the same shell runs unsandboxed in the workspace directory, so commands see
the host, and absolute ``/testbed`` paths inside commands do not exist (the file API still maps
them). A timeout then kills only the command's process group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from swe_srl.environments.mount import task_environment
from swe_srl.records import ExecResult, Task
from swe_srl.sandbox.base import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_READ_LIMIT,
    PATCH_LIMIT_BYTES,
    IsolationUnavailable,
    SandboxError,
)
from swe_srl.sandbox.bwrap import PipeChannel, bwrap_argv
from swe_srl.sandbox.gitops import git_diff, git_reset
from swe_srl.sandbox.identity import HostUser, sandbox_user
from swe_srl.sandbox.limits import CgroupJail, PidsWatch, ResourceLimits, disk_watch, run_guarded
from swe_srl.sandbox.localfs import (
    copy_repo,
    open_inside,
    read_regular,
    remove_tree,
    resolve_in_workspace,
    restore_git_dir,
)
from swe_srl.sandbox.overlay import OverlayUnavailable, OverlayWorkspace, lower_snapshot, unmount_under
from swe_srl.sandbox.shell import BASE_ENV, CONTROL_DIR, GITCONFIG, SHELL_ARGV, ShellSession
from swe_srl.sandbox.tree import TreeShape, restore_shape
from swe_srl.sandbox.workspace import default_cache_root, head_of, prepare_base_repo

__all__ = ["LocalSandbox", "bwrap_argv", "open_inside", "resolve_in_workspace", "workspace_root"]

WORKSPACE_DIRNAME = "swe-srl-ws"
UNSAFE_ENV_VAR = "SWE_SRL_UNSAFE_NO_SANDBOX"
WORKSPACE_MODES = ("auto", "overlay", "copy")
log = logging.getLogger(__name__)


def workspace_root() -> Path:
    """Parent of every local sandbox's workspace (what ``swe-srl sandbox gc`` sweeps); one per user."""
    uid = os.geteuid()
    return Path(tempfile.gettempdir()) / (WORKSPACE_DIRNAME if uid == 0 else f"{WORKSPACE_DIRNAME}-{uid}")


def _own_workspace_root() -> Path:
    """:func:`workspace_root`, made if missing and proven ours: another user's directory (or a link)
    planted there in a shared TMPDIR would let that user swap our workspaces."""
    parent = workspace_root()
    with contextlib.suppress(FileExistsError):
        parent.mkdir(mode=0o755)
    st = parent.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise SandboxError(
            f"{parent} is not a directory of this user writable by it alone; remove it (or set TMPDIR)"
        )
    return parent


class LocalSandbox:
    """A :class:`~swe_srl.sandbox.base.Sandbox` on this machine, confined by bubblewrap.

    ``ro_binds`` adds ``(host path, sandbox path)`` pairs bound read-only (a prebuilt environment);
    like the workspace, each must be reachable by the sandbox's host user. ``workspace`` chooses
    how ``/testbed`` is made: ``"overlay"``, ``"copy"``, or ``"auto"`` (the overlay where it can be
    mounted, else the copy).
    """

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
        ro_binds: Sequence[tuple[str | Path, str]] = (),
        workspace: str = "auto",
    ):
        if workspace not in WORKSPACE_MODES:
            raise ValueError(f"workspace must be one of {', '.join(WORKSPACE_MODES)}, got {workspace!r}")
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
        self.environment = task_environment(task, cache_root)
        if self.environment is not None and not isolation:
            raise SandboxError(
                f"task {task.instance_id} runs in environment {self.environment.spec.name}, which the "
                "local sandbox provides only under bubblewrap (isolation)"
            )
        environment_binds = self.environment.read_only_binds() if self.environment is not None else []
        self.ro_binds = (*environment_binds, *ro_binds)
        self._user: HostUser | None = sandbox_user() if isolation else None
        self._jail: CgroupJail | None = None
        self._pids_watch: PidsWatch | None = None
        self._closed = False
        self._sweeper: list[threading.Thread] = []
        self._overlay: OverlayWorkspace | None = None
        self._base = prepare_base_repo(task, cache_root)
        self.base_commit = head_of(self._base)
        self._shape: TreeShape | None = None  # the copy's reset needs it; an overlay's never does
        self.root = self._make_root(task)
        self.workspace = self.root / "testbed"
        try:
            self._overlay = self._make_overlay(workspace, cache_root)
            if self._overlay is None:
                copy_repo(self._base, self.workspace, self._user)
            (self.root / "gitconfig").write_text(GITCONFIG)
            (self.root / "empty").touch(mode=0o444)
            self._check_reachable()
        except BaseException:
            self.close()
            raise
        variables = self.environment.variables if self.environment is not None else {}
        self._env = {**BASE_ENV, **variables, **(env or {})}
        self._clean_env = dict(BASE_ENV)  # our own git commands ignore caller-supplied variables
        self._session = self._make_session()
        self._start_shell()

    def _start_shell(self) -> None:
        try:
            self._session.start()
        except SandboxError as exc:
            log = (self.root / "shell.log").read_text(errors="replace")[-2000:]
            self.close()
            raise SandboxError(
                f"local sandbox for {self.task.instance_id} did not start: {exc}\n{log}"
            ) from exc
        except BaseException:
            self.close()
            raise

    def _make_overlay(self, mode: str, cache_root: Path | None) -> OverlayWorkspace | None:
        """The overlay workspace, or None where the copy is to be used (see the class docstring)."""
        if mode == "copy":
            return None
        if self._user is None or os.geteuid() != 0:
            if mode == "overlay":
                raise OverlayUnavailable(
                    "the overlay workspace needs swe-srl running as root with a sandbox account"
                )
            return None
        try:
            cache = Path(cache_root or default_cache_root())
            lower = lower_snapshot(self._base, self._user, cache, scratch=self.root)
            return OverlayWorkspace(self.root, lower, self._user)
        except OverlayUnavailable as exc:
            if mode == "overlay":
                raise
            log.warning("copying the workspace instead of an overlay: %s", exc)
            with contextlib.suppress(OSError):
                self.workspace.rmdir()
            return None

    @property
    def workspace_mode(self) -> str:
        """How ``/testbed`` is made: ``"overlay"`` or ``"copy"``."""
        return "overlay" if self._overlay is not None else "copy"

    @staticmethod
    def _make_root(task: Task) -> Path:
        parent = _own_workspace_root()
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", task.instance_id)[:80]
        root = Path(tempfile.mkdtemp(prefix=f"{safe}.{os.getpid()}.{int(time.time())}.", dir=parent))
        root.chmod(0o711)  # the sandbox's user reaches its binds through it, and lists nothing
        return root

    def _check_reachable(self) -> None:
        if self._user is None:
            return
        for source in [self.workspace, *(Path(s) for s, _ in self.ro_binds)]:
            blocked = self._user.blocked_at(source)
            if blocked is not None:
                raise IsolationUnavailable(
                    f"the sandbox's host user {self._user.name!r} cannot reach {source}: {blocked} is not "
                    "searchable by it (the local sandbox's workspaces live under TMPDIR; point TMPDIR at "
                    "a directory other users may traverse, such as /tmp)"
                )

    def _make_session(self) -> ShellSession:
        guard = disk_watch(self.workspace, self.limits)
        if self.isolation:
            bwrap = bwrap_argv(
                self.workspace,
                self.root / "gitconfig",
                self._env,
                self.limits.tmpfs_bytes,
                ro_binds=self.ro_binds,
                mask=self.root / "empty",
            )
            if self._user is not None:
                bwrap = [*self._user.drop_argv(), *bwrap]
            self._jail = CgroupJail(self.root.name, self.limits)  # pids and memory: see limits.py
            argv = self._jail.wrap(bwrap)  # join the cgroup and set rlimits as root, then drop
            self._pids_watch = self._jail.watch()
            return ShellSession(
                lambda: self._open(argv, str(self.root), env={}, bwrap=True),
                ctl_dir=CONTROL_DIR,
                pid_namespace=True,
                guard=guard,
            )
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        extra = {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(self.root / "gitconfig")}
        env = {**self._env, **extra}
        self._clean_env = {**BASE_ENV, **extra}
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *SHELL_ARGV]
        return ShellSession(
            lambda: self._open(argv, str(self.workspace)),
            ctl_dir=str(self.root / "ctl"),
            home=str(self.workspace),
            pid_namespace=False,
            guard=guard,
        )

    def _open(self, argv: list[str], cwd: str, **options) -> PipeChannel:
        """A fresh shell, in a workspace root the last one may have locked (``chmod 000 /testbed``)."""
        # close() may come from another thread (a run engine reaping a task past its budget) while
        # a command waits; the shell it killed must not be started again.
        self._check_open()
        mode = stat.S_IMODE(os.stat(self.workspace).st_mode)
        if mode & 0o700 != 0o700:
            os.chmod(self.workspace, mode | 0o700)
        return PipeChannel(argv, cwd, self.root / "shell.log", **options)

    # -- commands ---------------------------------------------------------------------------
    def run(self, cmd: str, timeout: float = 60.0) -> ExecResult:
        self._check_open()
        watch, limit = self._pids_watch, self.limits.pids
        return run_guarded(self._session, watch, limit, cmd, timeout, self.output_limit)

    def diff(self) -> str:
        """``git diff`` of the workspace against the base commit, untracked files included."""
        self._check_open()
        return git_diff(
            self._session, self.base_commit, self._clean_env, PATCH_LIMIT_BYTES, self.kill_processes
        )

    def reset(self) -> None:
        """A new episode: no process, no tmpfs content, pristine ``.git``, the base tree, a fresh shell.

        With every process dead, the host puts back ``.git`` and the tree's shape (directories'
        modes and attributes; strays git cannot see or remove moved aside, :mod:`swe_srl.sandbox.tree`);
        then git, inside the sandbox, restores the files.
        """
        self._check_open()
        self.kill_processes()
        self._session.discard()  # what the last episode's processes left pending is not this one's
        if self._pids_watch is not None:
            self._pids_watch.tripped()  # nor are the forks its fork bomb had refused
        trash = self.root / "trash"
        trash.mkdir(mode=0o700, exist_ok=True)
        if self._overlay is not None:
            self._overlay.reset(trash)  # a fresh upper layer: the tree and .git as in the base
            self._empty_trash(trash)
            self._session.start()
            return
        restore_git_dir(self._base, self.workspace, self._user, trash=trash)
        if self._shape is None:
            self._shape = TreeShape.of(self._base)  # the base is the cache's: it never changes
        restore_shape(self._shape, self.workspace, trash)
        self._empty_trash(trash)
        self._session.start()
        git_reset(self._session, self.base_commit, self._clean_env)

    def _empty_trash(self, trash: Path) -> None:
        """Delete the last episode's ``.git`` off the reset's critical path (it is outside every bind)."""
        self._sweeper = [t for t in self._sweeper if t.is_alive()]
        for old in trash.iterdir():
            doomed = trash.with_name(f"doomed.{old.name}")  # never swept twice by overlapping threads
            old.rename(doomed)
            thread = threading.Thread(target=remove_tree, args=(doomed,), name="swe-srl-trash", daemon=True)
            thread.start()
            self._sweeper.append(thread)

    def kill_processes(self) -> None:
        """Kill every process of the sandbox and wait until none is left; the next run starts a shell."""
        self._check_open()
        self._session.close()  # bwrap's pid namespace, and everything in it, dies with its shell
        if self._jail is None:
            return
        deadline = time.monotonic() + 10
        while (pids := self._jail.pids()) and time.monotonic() < deadline:
            for pid in pids:  # a process between fork and the namespace's teardown
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    # -- files ------------------------------------------------------------------------------
    def host_path(self, path: str) -> Path:
        """Map a sandbox path to the workspace on this machine, refusing anything outside ``/testbed``."""
        return resolve_in_workspace(self.workspace, path)

    def read_file(self, path: str, max_bytes: int = DEFAULT_READ_LIMIT) -> bytes:
        self._check_open()
        target = self.host_path(path)
        try:
            fd = open_inside(self.workspace, target, os.O_RDONLY)
        except OSError as exc:
            raise SandboxError(f"cannot read {path}: {exc.strerror}") from exc
        except SandboxError as exc:
            raise SandboxError(f"cannot read {path}: {exc}") from exc
        try:
            return read_regular(fd, path, max_bytes)
        finally:
            os.close(fd)

    def write_file(self, path: str, data: bytes | str) -> None:
        self._check_open()
        target = self.host_path(path)
        try:
            fd = open_inside(self.workspace, target, os.O_WRONLY, user=self._user, make_parents=True)
        except OSError as exc:
            raise SandboxError(f"cannot write {path}: {exc.strerror}") from exc
        except SandboxError as exc:
            raise SandboxError(f"cannot write {path}: {exc}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.truncate(0)  # only now: the file is known to be a regular file inside the workspace
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
        for thread in self._sweeper:
            thread.join(timeout=60)
        overlay, root = getattr(self, "_overlay", None), getattr(self, "root", None)
        if overlay is not None:
            overlay.close()
        if root is not None:
            unmount_under(root)  # never delete through a mount
            remove_tree(root)

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
