"""What the working tree keeps across ``reset()`` besides file contents, and trees that break it.

Git restores tracked contents and removes what it can see, but it never sees FIFOs and sockets,
never restores a directory's permission bits or extended attributes, and cannot even walk a tree
deeper than ``PATH_MAX``. Each of these was a channel from one episode to the next (or a way to
make every later ``reset()`` and ``close()`` fail). Episode 2 must look exactly like a fresh sandbox.
"""

from __future__ import annotations

import contextlib

import pytest
from attacks import assert_usable, bash
from test_episodes import _assert_pristine

from swe_srl.sandbox import SandboxError

# Every entry of the tree but .git: type, permission bits, extended attribute names.
TREE = (
    "find . -path ./.git -prune -o -print0 | sort -z | "
    "xargs -0 python3 -c 'import os, stat, sys\n"
    "for p in sys.argv[1:]:\n"
    "    s = os.lstat(p)\n"
    "    print(p, stat.filemode(s.st_mode), sorted(os.listxattr(p, follow_symlinks=False)))'"
)
DEEP = (
    "python3 -c \"import os\nos.chdir('{where}')\nfor _ in range({depth}): os.mkdir('d'); os.chdir('d')\n"
    "open('f', 'w').write('x')\""
)


def _tree(sandbox) -> str:
    return bash(sandbox, TREE).observation


def test_special_files_survive_reset(sandbox):
    """A FIFO or a socket is invisible to git: `git clean` left it for the next episode."""
    fresh = _tree(sandbox)
    bash(
        sandbox,
        "mkfifo calc/pipe.py tests/test_wait.py; "
        "python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('tests/sock')\"",
    )
    assert "pipe.py" in _tree(sandbox)
    sandbox.reset()
    assert _tree(sandbox) == fresh
    _assert_pristine(sandbox)


def test_directory_metadata_survives_reset(sandbox):
    """A directory's mode and extended attributes (a channel of any size) outlived the episode."""
    fresh = _tree(sandbox)
    bash(
        sandbox,
        "chmod 700 calc; chmod 1777 tests; chmod 750 /testbed; "
        "python3 -c \"import os; os.setxattr('calc', 'user.note', b'episode one saw the fix')\"",
    )
    assert _tree(sandbox) != fresh
    sandbox.reset()
    assert _tree(sandbox) == fresh
    _assert_pristine(sandbox)


def test_unsearchable_workspace_root_breaks_reset(sandbox):
    """`chmod 000 /testbed`: no shell could start in it again, so every later reset() raised."""
    bash(sandbox, "chmod 000 /testbed")
    sandbox.reset()
    _assert_pristine(sandbox)
    bash(sandbox, "chmod 000 /testbed; chmod 000 calc")
    with contextlib.suppress(SandboxError):  # the shell dies with its workspace root locked...
        bash(sandbox, "kill -9 $$", timeout=5)
    assert_usable(sandbox)  # ...and the next one starts in it all the same
    sandbox.reset()
    _assert_pristine(sandbox)


@pytest.mark.parametrize("where", [".", "calc", ".git"])
def test_deep_directory_breaks_reset(sandbox, where):
    """A tree deeper than PATH_MAX: git cannot clean it, so every later reset() raised."""
    created = bash(sandbox, DEEP.format(where=where, depth=2500), timeout=120)
    assert created.exit_code == 0, created.observation
    sandbox.reset()
    _assert_pristine(sandbox)
    sandbox.reset()
    _assert_pristine(sandbox)


def test_deep_directory_leaks_workspace_on_close(open_sandbox):
    """Removing a tree that deep recursed past Python's limit: close() raised and left it on disk."""
    box = open_sandbox()
    for where in (".", ".git"):
        bash(box, DEEP.format(where=where, depth=2500), timeout=120)
    root = getattr(box, "root", None)
    box.close()
    assert root is None or not root.exists()
