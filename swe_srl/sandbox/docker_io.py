"""Talking to a Docker sandbox: the shell's exec channel, killing every process, and files.

The shell is one ``exec`` of bash attached over the engine's socket (:class:`ExecChannel`), so a
step costs a write and a read, not an exec. Files go in and out through the engine's archive API:
the engine streams a file as a tar archive, and a reader stops as soon as the archive says the file
is larger than the caller allows (the header comes first), so it never holds more than that in
memory: a 300 MB test log costs the host nothing but the refusal.
"""

from __future__ import annotations

import contextlib
import io
import select
import socket
import tarfile
import time
from collections.abc import Iterator
from typing import Any

from swe_srl.sandbox.base import FileTooLarge, SandboxError
from swe_srl.sandbox.shell import SHELL_ARGV

_TAR_SLACK = 64 << 10  # headers and padding around one member

# Kill every process but init and this script until only zombies (dead, waiting to be reaped) are
# left; builtins only, so the script forks nothing that it would then have to wait for.
KILL_EVERY_PROCESS = r"""
for (( i = 0; i < 500; i++ )); do
  builtin kill -KILL -1 2>/dev/null
  left=0
  for f in /proc/[0-9]*/stat; do
    builtin read -r line < "$f" 2>/dev/null || continue
    state=${line##*) }
    [[ ${line%% *} == 1 || ${line%% *} == $$ || ${state:0:1} == Z ]] || { left=1; break; }
  done
  (( left )) || exit 0
done
exit 1
"""


class ExecChannel:
    """stdin/stdout of one ``docker exec``, demultiplexed from the engine's framed stream."""

    def __init__(self, client: Any, container: Any, env: dict[str, str]):
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *SHELL_ARGV]
        exec_id = client.api.exec_create(container.id, argv, stdin=True, stdout=True, stderr=True)["Id"]
        self._container = container
        self._client = client
        self._socket = client.api.exec_start(exec_id, socket=True)
        self._raw: socket.socket = getattr(self._socket, "_sock", self._socket)
        self._frames = bytearray()

    def send(self, data: bytes) -> None:
        self._raw.sendall(data)

    def recv(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            payload = self._pop_frames()
            if payload:
                return payload
            ready, _, _ = select.select([self._raw], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                return None
            chunk = self._raw.recv(1 << 16)
            if not chunk:
                return self._pop_frames() or b""
            self._frames += chunk

    def _pop_frames(self) -> bytes:
        out = bytearray()
        while len(self._frames) >= 8:
            size = int.from_bytes(self._frames[4:8], "big")
            if len(self._frames) < 8 + size:
                break
            if self._frames[0] == 1:  # stdout; the shell's own stderr is discarded
                out += self._frames[8 : 8 + size]
            del self._frames[: 8 + size]
        return bytes(out)

    def detach(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.close()

    def kill(self) -> None:
        """End every process of the container but its init, the shell included (from any thread)."""
        with contextlib.suppress(Exception):
            self._container.exec_run(["bash", "-c", "kill -KILL -1"], detach=False)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.close()
        self.kill()  # a hung shell would outlive its socket


class _CappedStream(io.RawIOBase):
    """A readable file over the engine's chunks that refuses to deliver more than ``budget`` bytes."""

    def __init__(self, chunks: Iterator[bytes], budget: int, path: str, limit: int):
        self._chunks, self._budget, self._path, self._limit = chunks, budget, path, limit
        self._buffer = b""
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, b"")
            if not chunk:
                return 0
            self._read += len(chunk)
            if self._read > self._budget:
                raise FileTooLarge(self._path, self._read, self._limit)
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def read_archive(container: Any, resolved: str, path: str, max_bytes: int) -> bytes:
    """The regular file ``resolved`` of ``container``; :class:`FileTooLarge` past ``max_bytes``."""
    import docker

    try:
        chunks, _ = container.get_archive(resolved, chunk_size=1 << 20)
    except docker.errors.NotFound as exc:
        raise SandboxError(f"cannot read {path}: no such file") from exc
    except docker.errors.APIError as exc:  # e.g. a path longer than PATH_MAX
        raise SandboxError(f"cannot read {path[:200]!r}: {exc.explanation or exc}") from exc
    try:
        stream = io.BufferedReader(_CappedStream(iter(chunks), max_bytes + _TAR_SLACK, path, max_bytes))
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise SandboxError(f"cannot read {path}: not a regular file")
            if member.size > max_bytes:
                raise FileTooLarge(path, member.size, max_bytes)
            handle = tar.extractfile(member)
            return handle.read() if handle is not None else b""
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # an unfinished stream would hold the engine connection


def write_archive(container: Any, resolved: str, payload: bytes, mode: str, path: str) -> None:
    """Write ``payload`` to ``resolved`` (whose directory exists) with permission bits ``mode``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(resolved.rsplit("/", 1)[1])
        info.size, info.mtime, info.mode = len(payload), int(time.time()), int(mode or "644", 8)
        tar.addfile(info, io.BytesIO(payload))
    import docker

    try:
        written = container.put_archive(resolved.rsplit("/", 1)[0] or "/", buffer.getvalue())
    except docker.errors.APIError as exc:  # e.g. a path longer than PATH_MAX
        raise SandboxError(f"cannot write {path[:200]!r}: {exc.explanation or exc}") from exc
    if not written:
        raise SandboxError(f"cannot write {path}")
