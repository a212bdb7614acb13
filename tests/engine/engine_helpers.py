"""Helpers of the run-engine tests: a private ``$TMPDIR`` (where sandboxes keep their workspaces and
the engine its leases), and a check that a run left nothing behind on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

CLI = str(Path(sys.executable).with_name("swe-srl"))


@contextlib.contextmanager
def private_tmpdir() -> Iterator[Path]:
    """``$TMPDIR`` pointed at a fresh folder (short: Ray puts sockets under it) for the duration."""
    path = Path(tempfile.mkdtemp(prefix="sweeng-", dir="/tmp"))
    path.chmod(0o755)  # as /tmp is: the local sandbox's unprivileged user reaches its workspace through it
    old_env, old_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(path), None
    try:
        yield path
    finally:
        if old_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_env
        tempfile.tempdir = old_tempdir
        shutil.rmtree(path, ignore_errors=True)


def _cgroup_parents() -> list[Path]:
    root = Path("/sys/fs/cgroup")
    found = []
    for depth in ("*", "*/*", "*/*/*", "*/*/*/*"):
        found += [p for p in root.glob(f"{depth}/swe-srl") if p.is_dir()]
    return found


def _owner_pid(name: str) -> int | None:
    parts = name.rsplit(".", 3)
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


def leftovers(tmpdir: Path, pids: Iterable[int] = ()) -> list[str]:
    """What runs left behind: workspaces and leases under ``tmpdir``; cgroups and containers made by
    processes ``pids`` (the sandboxes' owners: this process, Ray's workers)."""
    pids = {os.getpid(), *pids}
    found = [str(p) for p in (tmpdir / "swe-srl-ws").glob("*")]
    found += [str(p) for p in (tmpdir / "swe-srl-engine" / "leases").glob("*/*.json")]
    for parent in _cgroup_parents():
        found += [str(c) for c in parent.iterdir() if c.is_dir() and _owner_pid(c.name) in pids]
    if shutil.which("docker"):
        import subprocess

        owners = {f"{socket.gethostname()}:{pid}" for pid in pids}
        listing = subprocess.run(
            ["docker", "ps", "-a", "--filter", "label=swe-srl.sandbox=1", "--format", "{{json .Labels}}"],
            capture_output=True,
            text=True,
        ).stdout
        for line in listing.splitlines():
            labels = dict(kv.split("=", 1) for kv in json.loads(line).split(",") if "=" in kv)
            if labels.get("swe-srl.owner") in owners:
                found.append(f"container of {labels.get('swe-srl.instance')}")
    return found


def results(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


class CountingRequirement:
    """A node requirement that records each time it is met (and takes a while, to invite races)."""

    def __init__(self, log: str, seconds: float = 0.5):
        self.log, self.seconds = log, seconds

    @property
    def key(self) -> str:
        return f"count:{self.log}"

    def ensure(self) -> str:
        import time

        with open(self.log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(self.seconds)
        return "counted"


class HoldSandbox:
    """Work that opens a real local sandbox for the sample task, says so, and then waits forever."""

    def __call__(self, payload, ctx):
        import time

        from swe_srl.sandbox import make_sandbox
        from swe_srl.tasks.loader import read_tasks

        sandbox = make_sandbox("local", read_tasks("sample").tasks[0])
        sandbox.run("sleep 600 &", timeout=10)
        print("ready", flush=True)
        while True:
            time.sleep(1)


def hold_sandbox(run_id: str) -> None:
    """Run :class:`HoldSandbox` as the engine would on this machine (a subprocess the test kills)."""
    from swe_srl.engine.jobs import Job, NodeSettings, run_on_node

    run_on_node(HoldSandbox(), Job("hold", None), NodeSettings(run_id), "local")


def sleeper_policy(folder: Path) -> str:
    """A ``replay:`` policy spec whose only command sleeps for ten minutes, for every task of a run
    (the replay policy plays the one trajectory of its file on any task)."""
    from swe_srl.records import Action, Step, Trajectory
    from swe_srl.trajectories.io import write_trajectory

    step = Step("wait", Action("bash", {"command": "sleep 600"}), "")
    traj = Trajectory(
        instance_id="sleeper", source_format="swe-srl", model="sleeper", problem_statement="", steps=[step]
    )
    return f"replay:{write_trajectory(traj, folder / 'sleeper.traj.json')}"


class ModelServerDouble:
    """TEST DOUBLE of an OpenAI-compatible model server, in a thread: a model server that breaks.

    Why not the real one: a real server (``transformers serve``, which the tests of
    ``tests/engine/test_policy_failures.py`` and ``test_telemetry.py`` run) cannot be made to hang
    on a request or to answer HTTP 500 on demand, and those are the failures under test here.
    It answers the model list (``GET /v1/models``) and the first request (a policy's preflight
    probe) as a server would; after that, by ``mode``:

    - ``"hang"``: accepts every request and never answers (a model server that hung);
    - ``"fail"``: answers HTTP 500 (a model server that broke).

    The policy spec that talks to it is :attr:`spec`.
    """

    def __init__(self, mode: str):
        import http.server
        import threading

        if mode not in ("hang", "fail"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self.released, self.posts, self.lock = mode, threading.Event(), 0, threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _json(self, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": "double", "object": "model"}]})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server.lock:
                    server.posts += 1
                if server.mode == "hang" and server.posts > 1:
                    server.released.wait(600)
                    return
                if server.mode == "fail" and server.posts > 1:
                    self.send_error(500, "the model server double broke")
                    return
                reply = "<think>done</think>\n<function=submit>\n</function>"  # the preflight's probe
                usage = {"prompt_tokens": 100, "completion_tokens": 1}
                self._json({"choices": [{"message": {"content": reply}}], "usage": usage})

            def log_message(self, *args) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def spec(self) -> str:
        return f"openai:double@http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ModelServerDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class LeaseWatcher:
    """Records the owner pid of every sandbox lease that appears under ``tmpdir`` while active."""

    def __init__(self, tmpdir: Path):
        import threading

        self.root = tmpdir / "swe-srl-engine" / "leases"
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            for path in self.root.glob("*/*.json"):
                with contextlib.suppress(OSError, ValueError):
                    self.pids.add(int(path.name.split(".", 1)[0]))

    def __enter__(self) -> LeaseWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found


INFLECTION = "inflection-0.5.1"  # an environment of the pypi suite: a real PyPI project


def inflection_suite(tmp_path: Path, **change) -> Path:
    """The pypi suite's inflection tasks (two) over a copy of their environment, with ``change``."""
    import dataclasses
    import json
    import shutil

    from swe_srl.tasks.loader import read_tasks
    from swe_srl.tasks.suites import envs_root

    suite = tmp_path / "suite"
    shutil.copytree(envs_root() / "pypi" / "repos" / INFLECTION, suite / "repos" / INFLECTION)
    rows = [
        json.loads(line) for line in (envs_root() / "pypi" / "environments.jsonl").read_text().splitlines()
    ]
    spec = next(r for r in rows if r["name"] == INFLECTION)
    (suite / "environments.jsonl").write_text(json.dumps({**spec, **change}) + "\n")
    tasks = [t for t in read_tasks("pypi").tasks if t.environment.endswith(f"#{INFLECTION}")][:2]
    reference = f"{suite / 'environments.jsonl'}#{INFLECTION}"
    moved = [dataclasses.replace(t, environment=reference) for t in tasks]
    (suite / "tasks.jsonl").write_text("".join(json.dumps(t.to_dict()) + "\n" for t in moved))
    return suite / "tasks.jsonl"
