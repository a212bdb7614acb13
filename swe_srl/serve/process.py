"""``ManagedServer``: start a model server, wait until it is healthy, restart it, stop it cleanly.

One supervisor thread owns the server process for its whole life: it starts it (through
``swe_srl.serve.launch``, so the kernel stops the server when that thread's process dies), polls
``GET /health`` until the server answers 200 and lists its model, and watches it. A server that
dies after it was healthy is started again after a backoff (1x, 2x, 4x ``backoff`` seconds), at most
``max_restarts`` times; clients wait in :meth:`ManagedServer.wait_ready` meanwhile. A server that never
becomes healthy on its first start is a configuration error and is not retried. :meth:`stop` sends
SIGTERM to the server's process group, then SIGKILL after ``stop_grace`` seconds.

The server's stdout and stderr go to a log file (``log_path``); errors quote its last line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from swe_srl.policy.errors import ModelServerError
from swe_srl.serve.commands import ServeError, ServerSpec, build_command, engine_missing, free_port


@dataclass(frozen=True)
class SupervisorConfig:
    """How long to wait for a server, and how often to bring it back."""

    startup_timeout: float = 900.0  # a 7B model loading and capturing CUDA graphs takes minutes
    max_restarts: int = 3
    backoff: float = 2.0
    stop_grace: float = 30.0
    poll_interval: float = 0.25


SERVE_DIR = Path(tempfile.gettempdir()) / "swe-srl-serve"  # logs (and merged adapters) by default


def default_log_path(spec: ServerSpec) -> Path:
    """Where a server's log goes unless told otherwise: one file per engine and port."""
    return SERVE_DIR / f"{spec.engine}-{spec.port}.log"


def last_log_line(path: Path, limit: int = 300) -> str:
    """The last non-empty line of the log (what a failed server said last), cut to ``limit`` characters."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 16384))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if line.strip() and not line.startswith("=== swe-srl"):
            return line.strip()[:limit]
    return ""


def http_ok(url: str, timeout: float = 5.0) -> bool:
    """Whether ``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class ManagedServer:
    """A model server this process started and keeps alive (see the module docstring)."""

    def __init__(
        self, spec: ServerSpec, log_path: Path | None = None, config: SupervisorConfig | None = None
    ):
        self.spec = spec if spec.port else replace(spec, port=free_port(spec.host))
        self.log_path = Path(log_path) if log_path else default_log_path(self.spec)
        self.config = config or SupervisorConfig()
        self.restarts = 0
        self.failure = ""
        self._proc: subprocess.Popen | None = None
        self._terminated: set[subprocess.Popen] = set()
        self._ready = threading.Event()
        self._done = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.spec.base_url

    @property
    def root_url(self) -> str:
        return self.spec.base_url.removesuffix("/v1")

    @property
    def model_name(self) -> str:
        return self.spec.model_name

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (tests kill it to play a crash)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> ManagedServer:
        """Start the server and wait until it is healthy; raise ``ModelServerError`` if it is not."""
        if missing := engine_missing(self.spec.engine):
            raise ServeError(missing)
        build_command(self.spec)  # a bad spec fails here, in the caller's thread
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._supervise, name="swe-srl-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.config.startup_timeout + 5
        while not self._ready.wait(0.1):
            if self._done.is_set() or time.monotonic() > deadline:
                self.stop()
                raise ModelServerError(self._failure_line())
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Block until the server is healthy (True) or has given up or ``timeout`` passed (False).

        Clients call it after a failed request. The supervisor's ready flag lags a crash by up to
        one poll interval (and ``Popen.poll`` from a second thread may answer "running" while the
        supervisor holds its lock), so the flag alone could send a client straight back to a dead
        port: readiness is the flag *and* a health check answered now.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._ready.wait(0.2) and http_ok(f"{self.root_url}/health", timeout=5.0):
                return True
            if self._done.is_set() or time.monotonic() > deadline:
                return False
            time.sleep(0.2)  # a dead server's flag stays set until the supervisor looks again

    @property
    def gave_up(self) -> str:
        """Why the supervisor stopped bringing the server back ("" while it still does)."""
        return self._failure_line() if self._done.is_set() and not self._stopping.is_set() else ""

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after the grace period); idempotent."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._ready.clear()

    def __enter__(self) -> ManagedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the supervisor thread ----------------------------------------------------------------

    def _failure_line(self) -> str:
        reason = self.failure or f"did not become healthy within {self.config.startup_timeout:.0f} s"
        said = last_log_line(self.log_path)
        tail = f"; it said: {said}" if said else ""
        what = f"model server ({self.spec.engine} serving {self.spec.model})"
        return f"{what} {reason}{tail} (log: {self.log_path})"

    def _supervise(self) -> None:
        try:
            self._run_until_stopped_or_given_up()
        except Exception as err:  # cannot even start the process (a bad executable, an unwritable log)
            self.failure = f"could not be started: {err}"
        finally:
            if self._proc is not None:
                self._terminate(self._proc)
            self._done.set()

    def _run_until_stopped_or_given_up(self) -> None:
        healthy_once = False
        while not self._stopping.is_set():
            proc = self._launch()
            if self._wait_healthy(proc):
                healthy_once = True
                self._ready.set()
                while proc.poll() is None and not self._stopping.wait(self.config.poll_interval):
                    pass
                self._ready.clear()
            if self._stopping.is_set():
                return
            reason = self._exit_reason(proc)
            self._terminate(proc)
            if not healthy_once:  # never came up: a configuration error, not a crash to retry
                self.failure = reason
                return
            if self.restarts >= self.config.max_restarts:
                self.failure = f"{reason}, {self.restarts} restarts spent"
                return
            self.restarts += 1
            self._stopping.wait(self.config.backoff * 2 ** (self.restarts - 1))

    def _launch(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "swe_srl.serve.launch", str(os.getpid()), "--"]
        command += build_command(self.spec)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.spec.cpu_threads:  # on a busy CPU one thread can be several times faster than two
            env["OMP_NUM_THREADS"] = str(self.spec.cpu_threads)
        with self.log_path.open("ab") as log:
            attempt = f"restart {self.restarts}" if self.restarts else "start"
            log.write(f"=== swe-srl: {attempt}: {' '.join(command)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env,
            )  # fmt: skip
        return self._proc

    def _wait_healthy(self, proc: subprocess.Popen) -> bool:
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if http_ok(f"{self.root_url}/health") and http_ok(f"{self.base_url}/models"):
                return True
            if self._stopping.wait(self.config.poll_interval):
                return False
        return False

    def _exit_reason(self, proc: subprocess.Popen) -> str:
        code = proc.poll()
        if code is None:
            return f"did not become healthy within {self.config.startup_timeout:.0f} s"
        if code < 0:
            return f"was killed by signal {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def _terminate(self, proc: subprocess.Popen) -> None:
        """SIGTERM to the server's process group, SIGKILL after the grace period (once per process:
        after that its group id may belong to someone else)."""
        if proc in self._terminated:
            return
        self._terminated.add(proc)
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(self.config.stop_grace)
        _signal_group(proc.pid, signal.SIGKILL)  # children a dead server left behind, too
        proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
