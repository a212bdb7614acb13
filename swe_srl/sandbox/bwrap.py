"""bubblewrap for the local sandbox: the command line that confines a shell, and its pipe channel.

The command line (:func:`bwrap_argv`) gives the shell no network and no namespace shared with the
host, a user namespace mapping the unprivileged user that runs bubblewrap to uid 0 with every
capability dropped and no nested user namespaces, the host's ``/usr`` and ``/etc`` read-only (secrets
masked, ``/usr/local`` hidden), sized tmpfs for ``/tmp``, ``$HOME``, ``/dev/shm`` and the shell's
control directory (``/dev`` read-only), and the workspace read-write at ``/testbed``.
:class:`PipeChannel` talks to the shell over its stdin and stdout and, on close, waits until
bubblewrap's pid namespace is gone, which the kernel allows only once every process in it has died.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from swe_srl.sandbox.base import TESTBED
from swe_srl.sandbox.limits import ResourceLimits
from swe_srl.sandbox.shell import CONTROL_DIR, SHELL_ARGV

_SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers")
_SECRET_DIRS = ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d", "/etc/docker", "/etc/containerd")
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The sandbox's git configuration (safe.directory, an identity: as the Docker base image's) is bound
# over the host's system file, hiding what that holds (credential helpers). A host without one has
# nothing to hide, and bubblewrap cannot make a mount point on the read-only /etc: the file is bound
# on the sandbox's own root (a tmpfs until the end of the setup) and named by GIT_CONFIG_SYSTEM.
HOST_GITCONFIG = "/etc/gitconfig"
FALLBACK_GITCONFIG = "/run/swe-srl-gitconfig"
_BWRAP_VERSIONS: dict[str, tuple[int, ...]] = {}


def bwrap_version(bwrap: str) -> tuple[int, ...]:
    """bubblewrap's version as numbers, asked once per binary (``()`` when it cannot say)."""
    if bwrap not in _BWRAP_VERSIONS:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"(\d+(?:\.\d+)+)", out)
        _BWRAP_VERSIONS[bwrap] = tuple(int(x) for x in found.group(1).split(".")) if found else ()
    return _BWRAP_VERSIONS[bwrap]


class PipeChannel:
    """The shell's stdin/stdout pipes of a child process."""

    def __init__(
        self, argv: list[str], cwd: str, log: Path, env: dict[str, str] | None = None, *, bwrap: bool = False
    ):
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
        self._bwrap = bwrap  # the child is bubblewrap, whose own child is its pid namespace's init
        self._ns_init: int | None = None

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv(self, timeout: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 1 << 16) if ready else None

    def kill(self) -> None:
        """Kill the shell from any thread; ``close`` still reaps it."""
        if self._bwrap and self._ns_init is None:
            self._ns_init = _child_of(self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill, reap, and wait until the sandbox's pid namespace is gone: no process of it runs after."""
        self.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        # bwrap's child is the namespace's init; it dies of --die-with-parent, and its exit kills and
        # waits for every other process in the namespace first. Until then they still run.
        deadline = time.monotonic() + 10
        while self._ns_init and _running(self._ns_init) and time.monotonic() < deadline:
            time.sleep(0.002)


def _child_of(pid: int) -> int | None:
    """The (first) child process of ``pid``, or None."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive and not a zombie (a zombie has finished dying)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def bwrap_argv(
    workspace: Path,
    gitconfig: Path,
    env: dict[str, str],
    tmpfs_bytes: int = ResourceLimits.tmpfs_bytes,
    *,
    ro_binds: Sequence[tuple[str | Path, str]] = (),
    mask: str | Path = "/dev/null",
) -> list[str]:
    """The bubblewrap command line that confines one episode's shell.

    ``ro_binds`` are extra ``(host path, sandbox path)`` pairs bound read-only (prebuilt
    environments); like every bind source, each must be reachable by the sandbox's host user.
    ``mask`` is bound over secret files: an empty regular file reads as empty, where a device node
    (``/dev/null``) cannot be opened at all on the ``nodev`` mounts of an unprivileged sandbox.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    argv = [bwrap, "--unshare-all", "--unshare-user", "--uid", "0", "--gid", "0", "--cap-drop", "ALL"]
    if bwrap_version(bwrap) >= (0, 8):
        argv.append("--disable-userns")  # a nested user namespace would hand root its capabilities back
    else:
        warnings.warn(
            "bubblewrap < 0.8 cannot forbid nested user namespaces inside the sandbox", stacklevel=2
        )
    argv += ["--die-with-parent", "--new-session", "--hostname", "testbed"]
    argv += ["--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local", "--remount-ro", "/usr/local"]
    for path in _ROOT_LINKS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", "/etc", "/etc"]
    if os.path.isfile(HOST_GITCONFIG):
        argv += ["--ro-bind", str(gitconfig), HOST_GITCONFIG]
    else:
        argv += ["--ro-bind", str(gitconfig), FALLBACK_GITCONFIG]
        env = {**env, "GIT_CONFIG_SYSTEM": FALLBACK_GITCONFIG}
    argv += [arg for f in _SECRET_FILES if os.path.exists(f) for arg in ("--ro-bind", str(mask), f)]
    for d in _SECRET_DIRS:
        if os.path.isdir(d):
            argv += ["--tmpfs", d, "--remount-ro", d]
    for source, dest in ro_binds:
        argv += ["--ro-bind", str(source), dest]
    size = ["--size", str(tmpfs_bytes)]  # an unsized tmpfs would grow into the host's RAM
    argv += ["--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/dev/shm"]
    argv += [*size, "--tmpfs", "/tmp", *size, "--tmpfs", env["HOME"], *size, "--tmpfs", CONTROL_DIR]
    argv += ["--bind", str(workspace), TESTBED, "--chdir", TESTBED, "--clearenv"]
    # /dev is one more tmpfs bubblewrap makes without a size: read-only, as / (its device nodes,
    # /dev/pts and the sized /dev/shm are mounts of their own and stay writable).
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return [*argv, *SHELL_ARGV]
