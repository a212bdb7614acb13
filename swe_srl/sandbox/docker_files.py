"""Files in and out of a Docker sandbox through the engine's archive API, with bounded host memory.

The engine streams a file as a tar archive. A reader stops as soon as the archive says the file is
larger than the caller allows (the header comes first), and never holds more than that in memory:
a 300 MB test log costs the host nothing but the refusal.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from typing import Any

from swe_srl.sandbox.base import FileTooLarge, SandboxError

_TAR_SLACK = 64 << 10  # headers and padding around one member


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
    if not container.put_archive(resolved.rsplit("/", 1)[0] or "/", buffer.getvalue()):
        raise SandboxError(f"cannot write {path}")
