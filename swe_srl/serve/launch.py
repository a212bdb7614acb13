"""Exec a command that dies with the process that started it (``python -m swe_srl.serve.launch``).

Usage: ``python -m swe_srl.serve.launch PARENT_PID -- COMMAND...``. Linux's ``PR_SET_PDEATHSIG``
makes the kernel send SIGTERM to the server when the thread that started it ends, so a model
server never outlives a run killed with SIGKILL. Set in this small launcher rather than in a
``preexec_fn`` (unsafe in a threaded parent), then ``exec``: no extra process stays around.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m swe_srl.serve.launch PARENT_PID -- COMMAND...", file=sys.stderr)
        return 2
    parent, command = int(argv[0]), argv[2:]
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's stop() is the only guard left
        pass
    if os.getppid() != parent:  # the parent died before the guard was set
        return 1
    os.execvp(command[0], command)
    return 127  # not reached: execvp raises on failure


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
