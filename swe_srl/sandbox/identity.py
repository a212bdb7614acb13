"""The host user a local sandbox runs as: never root.

bubblewrap started by real root keeps root's power: its user namespace maps uid 0 inside to uid 0
outside, with nearly every capability, so root in the sandbox could remount read-only binds, unmount
the masks over secrets and write host sysctls. The local backend therefore starts bubblewrap as an
unprivileged host user and lets it map *that* user to uid 0 inside: root in the sandbox then owns
the workspace and nothing else on the host, holds no capability, and cannot mount anything.

- When swe-srl itself runs unprivileged, that user is the caller: nothing to switch.
- When it runs as root, it uses a dedicated system account, ``swe-srl-sandbox`` (override with
  ``SWE_SRL_SANDBOX_USER``), created by ``scripts/setup.sh`` or here on first use; the harness keeps
  root for what only it may do (cgroups, the workspace's ownership) and drops to the account with
  ``setpriv`` right before ``exec``-ing bubblewrap.

Files the sandbox must write (the workspace) belong to the account; files it must only read (the
cached base repository's objects, the git configuration) stay root's and are bound read-only.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from swe_srl.sandbox.base import IsolationUnavailable

SANDBOX_USER = "swe-srl-sandbox"
USER_ENV_VAR = "SWE_SRL_SANDBOX_USER"


@dataclass(frozen=True)
class HostUser:
    """An unprivileged host account a sandbox runs as."""

    name: str
    uid: int
    gid: int

    def drop_argv(self) -> list[str]:
        """Prefix that runs a command as this user, with no supplementary groups and no capabilities."""
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise IsolationUnavailable(
                "the local sandbox needs 'setpriv' (util-linux) to drop root before starting bubblewrap"
            )
        return [
            setpriv,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ]

    def blocked_at(self, path: Path) -> Path | None:
        """The first directory on the way to ``path`` this user may not search (``None``: reachable).

        bubblewrap opens the sources of its binds as this user, so each must be reachable by it.
        """
        for directory in [*reversed(Path(path).parents), Path(path)]:
            try:
                st = os.stat(directory)
            except OSError:
                return directory
            if st.st_uid == self.uid:
                bit = stat.S_IXUSR
            elif st.st_gid == self.gid:
                bit = stat.S_IXGRP
            else:
                bit = stat.S_IXOTH
            if stat.S_ISDIR(st.st_mode) and not st.st_mode & bit:
                return directory
        return None

    def chown_tree(self, root: Path, skip: Path | None = None) -> None:
        """Give ``root`` and everything under it to this user (symlinks themselves, never their targets).

        Entries under ``skip`` keep their owner, except directories, which the sandbox must be able
        to add to (``.git/objects`` whose files are hardlinks into the root-owned cache).
        """
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, self.uid, self.gid, follow_symlinks=False)
            if skip is not None and Path(dirpath).is_relative_to(skip):
                continue  # its subdirectories are chowned as the walk reaches them
            for name in dirnames + filenames:  # links among dirnames are not walked: chown them here
                os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)


_cached: dict[str, HostUser] = {}


def sandbox_user() -> HostUser | None:
    """The account local sandboxes run as; ``None`` when this process is unprivileged already."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get(USER_ENV_VAR) or SANDBOX_USER
    if name not in _cached:
        _cached[name] = _lookup_or_create(name)
    return _cached[name]


def _lookup(name: str) -> HostUser | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise IsolationUnavailable(
            f"the sandbox account {name!r} has uid {entry.pw_uid} / gid {entry.pw_gid}: it must be an "
            f"unprivileged account (set {USER_ENV_VAR} to another one)"
        )
    return HostUser(name, entry.pw_uid, entry.pw_gid)


def _lookup_or_create(name: str) -> HostUser:
    found = _lookup(name)
    if found is not None:
        return found
    # Two processes starting their first sandbox at once: one creates, the other waits and finds it.
    lock_path = Path(tempfile.gettempdir()) / ".swe-srl-useradd.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _lookup(name)
        if found is not None:
            return found
        useradd = shutil.which("useradd")
        command = [useradd or "useradd", "--system", "--user-group", "--no-create-home"]
        command += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
        error = "useradd is not installed"
        if useradd is not None:
            done = subprocess.run(command, capture_output=True, text=True)
            error = done.stderr.strip() or f"exit status {done.returncode}"
        found = _lookup(name)
    if found is None:
        raise IsolationUnavailable(
            f"the local sandbox runs as the unprivileged account {name!r}, which does not exist and "
            f"could not be created ({error}); create it with `{' '.join(command)}` (scripts/setup.sh "
            f"does), name an existing one with {USER_ENV_VAR}, or run swe-srl as an unprivileged user"
        )
    return found
