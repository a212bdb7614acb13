"""Host-side file access: ``read_file``/``write_file`` run on the host (locally as root), so a file
the sandbox planted must never make them act on anything but the sandbox's own files.

The local workspace's ``.git/objects`` files are hard links into the shared base cache, owned by
root and read-only to the sandbox: the sandbox cannot write them, but it can move them anywhere in
its workspace, where the host's root would write straight through the link.
"""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from attacks import TEST_LIMITS, assert_usable, bash

from swe_srl.sandbox import SandboxError, make_sandbox


def _cache_digest(cache_root) -> dict[str, str]:
    """Content hash of every file of the base cache (repositories and Docker tarballs)."""
    return {
        str(path.relative_to(cache_root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((cache_root / "base").rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def test_write_file_through_hardlinked_cache_object(backend, tiny_task, tmp_path):
    """Move a pack (a hard link into the cache) over a working-tree file, then have the host write it."""
    cache_root = tmp_path / "cache"  # private: a hole would poison every later sandbox of the task
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=TEST_LIMITS) as box:
        before = _cache_digest(cache_root)
        moved = bash(box, "mv .git/objects/pack/*.pack calc/ops.py && ls .git/objects/pack | wc -l")
        assert moved.observation == "1", moved.observation  # only the index is left
        with contextlib.suppress(SandboxError):  # refusing the write is fine; writing through is not
            box.write_file("/testbed/calc/ops.py", "pwned\n")
        with contextlib.suppress(SandboxError):
            box.write_file("calc/../calc/ops.py", b"pwned again\n")
        assert _cache_digest(cache_root) == before
        box.reset()
        assert bash(box, "git cat-file -p HEAD:calc/ops.py").observation == "def add(a, b):\n    return a - b"
        assert_usable(box)
    with make_sandbox(backend, tiny_task, cache_root=cache_root, limits=TEST_LIMITS) as fresh:
        checked = bash(fresh, "git fsck --no-dangling --no-progress 2>&1; git status --porcelain")
        assert checked.observation.startswith("Your command ran successfully"), checked.observation
    assert _cache_digest(cache_root) == before


@pytest.mark.parametrize("path", ["calc/\0ops.py", "/testbed/" + "d/" * 2100 + "f"])
def test_odd_paths_raise_typed_errors(sandbox, path):
    """A path the host cannot even look up (NUL byte, longer than PATH_MAX) is a SandboxError."""
    with pytest.raises(SandboxError):
        sandbox.read_file(path)
    with pytest.raises(SandboxError):
        sandbox.write_file(path, "x")
    assert_usable(sandbox)
