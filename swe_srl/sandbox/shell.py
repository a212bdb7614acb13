"""The persistent shell both sandbox backends talk to.

One ``bash`` per episode reads requests from its stdin: ``__swe_run TIMEOUT SAVE 'command'``. Each
command runs in a forked subshell that is its own process group (``set -m``), with stdin from
``/dev/null`` and stderr merged into stdout, which is the channel back to the host. The shell waits
for the job with ``read -t`` on a fifo and kills the group when the timeout passes; it then prints a
sentinel line holding the exit code and whether the command timed out. Forks instead of ``exec``s
keep a trivial step near 2 ms, and a command that hangs or kills itself never takes the shell down.

An optional :class:`Guard` (the disk and inode reserves of :mod:`swe_srl.sandbox.reserve`) is armed
as each command starts and polled by a watchdog thread for as long as the session lives; when it
trips, :meth:`ShellSession.interrupt` kills the whole shell (a busy shell cannot take a request, and a
background writer has no command to stop) and the note ends the next result, which a fresh shell
produces.

The harness's own scripts (:meth:`ShellSession.run_clean`: the git of :mod:`swe_srl.sandbox.gitops`)
run inside the sandbox too, because the repository's configuration is the agent's to change.

State persists like an interactive shell for the working directory and exported variables: the
subshell's ``EXIT`` trap writes ``cd`` + ``export -p`` to a state file that the shell loads after
the command. Both backends run this exact script with the same environment, so the same commands
give byte-identical observations locally and in Docker.
"""

from __future__ import annotations

import dataclasses
import secrets
import shlex
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from swe_srl.records import ExecResult
from swe_srl.sandbox.base import DEFAULT_OUTPUT_LIMIT, TESTBED, TRUNCATION_MARKER, SandboxError, ScriptError
from swe_srl.sandbox.reserve import WATCHDOG

# The environment every command starts from, identical in both backends (no host variables).
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_PROGRESS_BAR": "off",
    "TQDM_DISABLE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",  # keeps `git status` and the diff free of __pycache__
    # SWE-agent's experts ran on a pty: Python flushed each line, so a crash's traceback came after
    # the prints before it; unbuffered output keeps that order. A pty also reported 80 columns.
    "PYTHONUNBUFFERED": "1",
    "COLUMNS": "80",
}
# Same content as the base image's /etc/gitconfig, bound over the host's in the local sandbox.
GITCONFIG = "[safe]\n\tdirectory = *\n[user]\n\temail = swe-srl@localhost\n\tname = swe-srl\n"
# The shell's own files (state, fifo); not under /tmp, which agents like to wipe.
CONTROL_DIR = "/run/swe-srl"
TIMED_OUT_EXIT_CODE = 124
SHELL_DIED_EXIT_CODE = 137
GRACE_SECONDS = (
    5.0  # beyond a command's timeout, how long the shell gets to report before it is presumed hung
)
SHELL_ARGV = ["bash", "--noprofile", "--norc", "-s"]
LONG_COMMAND_CHARS = 16_384  # longer commands travel as a counted block, not as one quoted word
_UNLIMITED = 1 << 40  # our own short scripts' output is never truncated
_PREAMBLE = r"""
builtin set +o history
builtin set -m
exec 2>/dev/null
__swe_mark=%(mark)s
__swe_ns=%(ns)d
__swe_dir=%(ctl)s
builtin cd -- %(home)s
# Each external command here delays every sandbox start and reset: run mkdir and rm only if needed.
[[ -d $__swe_dir ]] || mkdir -p -- "$__swe_dir"
[[ -e $__swe_dir/wake || -L $__swe_dir/wake ]] && rm -f -- "$__swe_dir/wake"
mkfifo -- "$__swe_dir/wake"
exec 9<>"$__swe_dir/wake"
__swe_save() { __swe_save_to "$__swe_dir/state"; }
__swe_save_to() {
  { builtin printf 'builtin cd -- %%q\n' "$PWD"; builtin set -o posix; builtin export -p; } >"$1"
  builtin set +o posix
}
__swe_load() {
  [[ -s $1 ]] || return 0
  builtin compgen -e >"$__swe_dir/names"
  builtin mapfile -t __swe_names <"$__swe_dir/names"
  builtin unset -v "${__swe_names[@]}"
  builtin source "$1"
  builtin set +o posix
}
__swe_exit() { [[ $1 == 1 ]] && __swe_save; builtin echo "$BASHPID" >"$__swe_dir/wake"; }
__swe_run() {
  ( builtin set +m; builtin trap "__swe_exit $2" EXIT; builtin eval "$3" ) </dev/null 2>&1 9>&- &
  local job=$! rc timed=0 line slice left now
  local until=$(( ${EPOCHREALTIME/./} + 10#${1%%%%.*} * 1000000 + 10#${1#*.} * 1000 ))
  # No watchdog process: the job announces its end on the wake fifo from its EXIT trap, and a job
  # that dies without running it (SIGKILL, exec) is noticed by polling every quarter second.
  while :; do
    now=${EPOCHREALTIME/./}; left=$(( until - now ))
    if (( left <= 0 )); then timed=1; builtin kill -KILL -- -"$job"; break; fi
    (( left > 250000 )) && left=250000
    builtin printf -v slice '%%d.%%06d' $(( left / 1000000 )) $(( left %% 1000000 ))
    if builtin read -r -t "$slice" -u 9 line; then [[ $line == "$job" ]] && break; continue; fi
    builtin kill -0 "$job" || break
  done
  builtin wait "$job"; rc=$?
  # A killed process may finish a write already under way (cat of 128 KiB): kill until every other
  # process is gone and reaped, so none of its output lands after the sentinel, in the next step.
  if [[ $timed == 1 && $__swe_ns == 1 ]]; then
    for (( left = 0; left < 100000; left++ )); do builtin kill -KILL -1 2>/dev/null || break; done
  fi
  if [[ $2 == 1 ]]; then __swe_load "$__swe_dir/state"; : >"$__swe_dir/state"; fi
  builtin printf '\n%%s %%d %%d\n' "$__swe_mark" "$rc" "$timed"
}
# A long command follows its request line as $3 bytes: bash reads its script (and `read` reads)
# from a pipe one byte per read(), ~1 s per MB; `head -c` reads exactly that many, in blocks.
__swe_run_long() {
  local __swe_cmd; __swe_cmd=$(builtin command -p head -c "$3"); __swe_run "$1" "$2" "$__swe_cmd"
}
__swe_reset() {
  if [[ $__swe_ns == 1 ]]; then builtin kill -KILL -1; fi
  __swe_load "$__swe_dir/base"
  builtin printf '\n%%s 0 0\n' "$__swe_mark"
}
__swe_save_to "$__swe_dir/base"
"""


class Guard(Protocol):
    """A watch armed as each command starts (``reserve.DiskWatch``), polled by the watchdog thread."""

    def arm(self) -> None:
        """Called as a command starts."""
        ...

    def check(self) -> str:
        """``""`` while all is well; else the note that ends the command's observation."""
        ...


class Channel(Protocol):
    """A byte pipe to a running shell: stdin one way, merged stdout/stderr the other."""

    def send(self, data: bytes) -> None: ...

    def kill(self) -> None:
        """Kill the shell and everything it started, safely from another thread (``close`` reaps)."""
        ...

    def recv(self, timeout: float) -> bytes | None:
        """Bytes available within ``timeout``; ``None`` when none came; ``b""`` at end of stream."""
        ...

    def close(self) -> None: ...


@dataclass
class _Collected:
    head: bytearray
    dropped_bytes: int = 0
    status: bytes = b""
    finished: bool = False
    eof: bool = False


def render_output(head: bytes, dropped_bytes: int, limit: int) -> tuple[str, bool]:
    """Decode (bad bytes replaced) and cap at ``limit`` characters with the visible marker."""
    text = head.decode("utf-8", errors="replace")
    if len(text) <= limit and not dropped_bytes:
        return text, False
    dropped = max(0, len(text) - limit) + dropped_bytes
    return text[:limit] + TRUNCATION_MARKER.format(dropped=dropped), True


class ShellSession:
    """Drives one persistent shell over a :class:`Channel`; restarts it when it dies."""

    def __init__(
        self,
        opener,
        *,
        ctl_dir: str,
        home: str = TESTBED,
        pid_namespace: bool = True,
        guard: Guard | None = None,
    ):
        self._opener = opener  # () -> Channel, a fresh shell each call
        self._guard = guard
        self._ctl_dir = ctl_dir
        self._home = home
        self._ns = pid_namespace
        self._mark = f"__SWE_SRL_DONE_{secrets.token_hex(8)}__".encode()
        self._channel: Channel | None = None
        self._carry = b""  # output that arrived after the previous sentinel (background processes)
        self._starting = False
        self._lock = threading.Lock()
        self._notes: list[str] = []  # what the host did behind the agent's back, for its next observation
        self._killed = False  # the shell was killed from another thread: the next run starts a fresh one
        self.restarts = 0
        self.repository_broken = False  # git could not diff the workspace last time (gitops.git_diff)
        self._watch = WATCHDOG.add(guard, self.interrupt) if guard is not None else None

    def start(self) -> None:
        self._killed = False
        self._channel = self._opener()
        script = _PREAMBLE % {
            "mark": self._mark.decode(),
            "ns": int(self._ns),
            "ctl": shlex.quote(self._ctl_dir),
            "home": shlex.quote(self._home),
        }
        self._starting = True
        try:
            self._channel.send(script.encode())
            result = self.run("true", timeout=30.0, save=False)
        except OSError as exc:
            raise SandboxError(f"sandbox shell failed to start: {exc}") from exc
        finally:
            self._starting = False
        if result.exit_code != 0:
            raise SandboxError(f"sandbox shell failed to start: {result.output[-2000:]}")

    def run_clean(
        self, script: str, env: dict[str, str], what: str, timeout: float = 300.0, limit: int = _UNLIMITED
    ) -> str:
        """Run a script of ours in the repository with ``env`` only, whatever the agent exported.

        Git runs inside the sandbox on purpose: the repository's config and attributes are the
        agent's to change (hooks, filters, fsmonitor), so they must never execute on the host.
        A script that fails raises :class:`ScriptError`; a shell that died or hung meanwhile, plain
        :class:`SandboxError`.
        """
        assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
        cmd = f"builtin cd -- {shlex.quote(self._home)} && env -i {assignments} bash -c {shlex.quote(script)}"
        restarts = self.restarts
        result = self.run(cmd, timeout, save=False, limit=limit)
        if result.exit_code != 0 and (result.timed_out or self.restarts != restarts):
            raise SandboxError(f"{what}: the sandbox's shell died or hung (exit {result.exit_code})")
        if result.exit_code != 0:
            raise ScriptError(what, result.exit_code, result.output)
        return result.output

    @property
    def ctl_dir(self) -> str:
        """The shell's control directory inside the sandbox (a tmpfs of its own locally)."""
        return self._ctl_dir

    def note(self, text: str) -> None:
        """Say ``text`` at the end of the agent's next command (something the harness did or saw)."""
        with self._lock:
            self._notes.append(text)

    def interrupt(self, note: str) -> None:
        """Kill the shell and every process of the sandbox, from any thread; ``note`` ends the next result.

        The watchdog of :mod:`swe_srl.sandbox.reserve` calls it when the sandbox eats into a reserve.
        """
        with self._lock:
            self._notes.append(note)
            self._killed = True
            channel = self._channel
        if channel is not None:
            channel.kill()

    def _take_notes(self) -> str:
        with self._lock:
            notes, self._notes = self._notes, []
        return "".join(dict.fromkeys(notes))

    def run(self, cmd: str, timeout: float = 60.0, *, save: bool = True, limit: int = DEFAULT_OUTPUT_LIMIT):
        """Run one command; a dead or hung shell is replaced and the command reported as killed.

        An agent's command (``save``) also carries the notes of anything the host stopped since the
        last one (:meth:`interrupt`); the harness's own scripts leave them for the agent to read.
        """
        if "\0" in cmd:
            raise SandboxError("a command cannot contain NUL bytes")
        if self._channel is None:
            self.start()
        elif self._killed and not self._starting:
            self._restart()  # the shell was killed between two steps: start the command in a fresh one
        started = time.monotonic()
        timeout = max(float(timeout), 0.001)
        if len(cmd) > LONG_COMMAND_CHARS:
            request = f"__swe_run_long {timeout:.3f} {int(save)} {len(cmd.encode())}\n{cmd}"
        else:
            request = f"__swe_run {timeout:.3f} {int(save)} {shlex.quote(cmd)}\n"
        result = self._exchange(request, timeout, started, limit)
        if save and not self._starting and self._notes:
            result = dataclasses.replace(result, output=result.output + self._take_notes())
        return result

    def reset_state(self) -> None:
        """Kill every process in the sandbox and restore the initial cwd and environment."""
        if self._channel is None:
            self.start()
            return
        self._exchange("__swe_reset\n", 30.0, time.monotonic(), DEFAULT_OUTPUT_LIMIT)
        self._carry = b""

    def _exchange(self, request: str, timeout: float, started: float, limit: int) -> ExecResult:
        assert self._channel is not None
        try:
            self._channel.send(request.encode())
        except OSError:
            self._restart()
            self._channel.send(request.encode())
        if self._guard is not None and not self._starting:
            self._guard.arm()
        got = self._collect(started + timeout + GRACE_SECONDS, limit)
        if not got.finished and self._starting:
            detail = bytes(got.head).decode(errors="replace")[-2000:]
            raise SandboxError(
                f"sandbox shell failed to start ({'hung' if not got.eof else 'exited'}): {detail}"
            )
        duration = time.monotonic() - started
        output, truncated = render_output(bytes(got.head), got.dropped_bytes, limit)
        if got.finished:
            code_text, _, timed_text = got.status.decode(errors="replace").partition(" ")
            timed_out = timed_text.strip() == "1"
            exit_code = TIMED_OUT_EXIT_CODE if timed_out else int(code_text)
            return ExecResult(output, exit_code, timed_out, duration, truncated)
        # The shell died (EOF) or never answered: start a new one for the next command.
        self._restart()
        hung = not got.eof
        code = TIMED_OUT_EXIT_CODE if hung else SHELL_DIED_EXIT_CODE
        return ExecResult(output, code, hung, duration, truncated)

    def _collect(self, deadline: float, limit: int) -> _Collected:
        assert self._channel is not None
        got = _Collected(head=bytearray())
        max_bytes = 4 * limit + 4  # enough bytes for `limit` characters of any UTF-8 text
        needle = b"\n" + self._mark + b" "
        pending = bytearray(self._carry)
        self._carry = b""
        while True:
            at = pending.find(needle)
            if at >= 0 and (end := pending.find(b"\n", at + len(needle))) >= 0:
                self._keep(got, pending[:at], max_bytes)
                got.status = bytes(pending[at + len(needle) : end])
                self._carry = bytes(pending[end + 1 :])
                got.finished = True
                return got
            if at < 0 and len(pending) > len(needle):
                self._keep(got, pending[: len(pending) - len(needle)], max_bytes)
                del pending[: len(pending) - len(needle)]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._keep(got, pending, max_bytes)
                return got
            chunk = self._channel.recv(min(remaining, 1.0))
            if chunk == b"":
                self._keep(got, pending, max_bytes)
                got.eof = True
                return got
            if chunk:
                pending += chunk

    @staticmethod
    def _keep(got: _Collected, data: bytes | bytearray, max_bytes: int) -> None:
        room = max_bytes - len(got.head)
        got.head += data[: max(room, 0)]
        got.dropped_bytes += max(len(data) - max(room, 0), 0)

    def _restart(self) -> None:
        self.close()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            channel.close()

    def discard(self) -> None:
        """Forget the shell and anything pending without cleaning up inside (its sandbox is replaced)."""
        if self._channel is not None:
            channel, self._channel = self._channel, None
            getattr(channel, "detach", channel.close)()
        with self._lock:
            self._notes = []
            self._killed = False
        self._carry = b""
        self.repository_broken = False

    def detach(self) -> None:
        """Drop the channel without cleaning up inside (the caller is destroying the sandbox)."""
        if self._watch is not None:
            WATCHDOG.remove(self._watch)
            self._watch = None
        if self._channel is not None:
            channel, self._channel = self._channel, None
            getattr(channel, "detach", channel.close)()
