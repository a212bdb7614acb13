"""Build an environment once: a virtual environment at ``/opt/swe-srl/venv`` over the base root filesystem.

The build runs under bubblewrap as the unprivileged sandbox account (``buildbox.py``: never as
host root) with the base root filesystem's ``/usr`` and ``/etc`` (never the host's), the
environment's source tree at ``/testbed`` and the future virtual environment at
``/opt/swe-srl/venv``, both writable, and only the network shared, so pip reaches the package index
through this machine's configuration (``pipconf.py``). In order it: creates the virtual environment
(no system site-packages), bootstraps pip from the harness's own pip, runs ``pre_install``,
installs the pinned ``packages``, runs ``install`` (e.g. an editable install of ``/testbed``), and
records ``pip freeze``. Sandboxes later bind the result read-only at the same path, with no network.

Built environments are cached under ``<cache>/envs/<build_key>``, built in a temporary directory
renamed into place under a lock: concurrent callers build each key once. A build that cannot work
here (another Python than the base provides) raises :class:`EnvironmentUnavailable` with the reason.
:func:`resolve_in_buildbox` runs pip's resolver over a source tree in the same sandbox (``tasks synth``
pins an sdist's dependencies that way: resolving runs the sdist's build backend).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from swe_srl.environments import buildbox
from swe_srl.environments.buildbox import BOOTSTRAP, OUT, VENV
from swe_srl.environments.pipconf import read_pip_config
from swe_srl.environments.rootfs import base_rootfs, environments_cache, rootfs_python
from swe_srl.environments.spec import EnvSpec
from swe_srl.sandbox.base import SandboxError
from swe_srl.sandbox.localfs import open_inside, read_regular, remove_tree

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_BUILD_TIMEOUT = 1800.0
READY = "environment.json"
OUTPUT_LIMIT = 1 << 20  # the build's python version and pip freeze
REPORT_LIMIT = 64 << 20  # pip's install report of a resolve


class EnvironmentBuildError(SandboxError):
    """An environment could not be built; the message names it and says why.

    A sandbox cannot start without its environment, so this is a sandbox failure: validation and
    grading report it per task (``sandbox failed: ...``) and go on.
    """


class EnvironmentUnavailable(EnvironmentBuildError):
    """This machine cannot provide what the environment needs (another Python version, ...)."""


@dataclass(frozen=True)
class BuiltEnv:
    """A built environment on disk: where its files are and what it holds."""

    name: str
    key: str
    path: Path  # <cache>/envs/<key>
    rootfs: Path  # the base root filesystem its interpreter comes from
    python: str  # full version of the interpreter, e.g. "3.11.2"
    freeze: tuple[str, ...]  # `pip freeze --all` inside the environment
    build_seconds: float

    @property
    def venv(self) -> Path:
        return self.path / "venv"


def environments_root(cache_root: Path | None = None) -> Path:
    return environments_cache(cache_root) / "envs"


def load_built(spec: EnvSpec, cache_root: Path | None = None) -> BuiltEnv | None:
    """The built environment of ``spec`` when it is in the cache, else None."""
    path = environments_root(cache_root) / spec.build_key()
    try:
        meta = json.loads((path / READY).read_text())
    except (OSError, ValueError):
        return None
    if not Path(meta["rootfs"]).is_dir():
        return None  # its root filesystem was removed: build again
    return BuiltEnv(
        name=spec.name,
        key=meta["key"],
        path=path,
        rootfs=Path(meta["rootfs"]),
        python=meta["python"],
        freeze=tuple(meta["freeze"]),
        build_seconds=meta["build_seconds"],
    )


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (one build of a key at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_environment(
    spec: EnvSpec,
    *,
    cache_root: Path | None = None,
    timeout: float = DEFAULT_BUILD_TIMEOUT,
    force: bool = False,
) -> BuiltEnv:
    """Build ``spec`` (or return it from the cache); raise with the build log's tail on failure."""
    if not force and (built := load_built(spec, cache_root)) is not None:
        return built
    root = environments_root(cache_root)
    key = spec.build_key()
    with locked(root / f".{key}.lock"):
        if not force and (built := load_built(spec, cache_root)) is not None:
            return built  # another process built it while we waited
        rootfs = base_rootfs(spec.base_image, cache_root)
        have = rootfs_python(rootfs)
        if have != spec.python:
            raise EnvironmentUnavailable(
                f"environment {spec.name} needs Python {spec.python}; the base root filesystem "
                f"({spec.base_image}) provides Python {have}"
            )
        if not Path(spec.repo_dir).is_dir():
            raise EnvironmentBuildError(
                f"environment {spec.name}: repo_dir {spec.repo_dir} is not a directory"
            )
        _build_into(spec, key, rootfs, root, timeout)
    built = load_built(spec, cache_root)
    assert built is not None
    return built


def _build_into(spec: EnvSpec, key: str, rootfs: Path, root: Path, timeout: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=root))
    try:
        for sub in ("venv", "out", "home"):
            (tmp / sub).mkdir()
        shutil.copytree(spec.repo_dir, tmp / "testbed", symlinks=True, ignore=shutil.ignore_patterns(".git"))
        start = time.monotonic()
        _run_build(spec, rootfs, tmp, timeout)
        what = f"environment {spec.name}"
        python = _read_output(what, tmp / "out", "python").strip()
        freeze = [line for line in _read_output(what, tmp / "out", "freeze.txt").splitlines() if line.strip()]
        meta = {
            "key": key,
            "name": spec.name,
            "rootfs": str(rootfs),
            "python": python,
            "freeze": freeze,
            "build_seconds": round(time.monotonic() - start, 2),
            "spec": spec.to_dict(),
        }
        (tmp / READY).write_text(json.dumps(meta, indent=2) + "\n")
        final = root / key
        if final.exists():
            _remove(final)
        for sub in ("out", "home", "testbed"):  # sandboxes bring their own /testbed
            _remove(tmp / sub)
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would keep the sandbox's unprivileged account out
        os.rename(tmp, final)
    finally:
        remove_tree(tmp)


def _read_output(what: str, out: Path, name: str, limit: int = OUTPUT_LIMIT) -> str:
    """A file the build wrote, read as root: only a regular file in ``out`` (never through a link the
    build planted to a host file, never a FIFO that would block the host), at most ``limit`` bytes."""
    try:
        fd = open_inside(out, out / name, os.O_RDONLY)
        try:
            return read_regular(fd, name, limit).decode("utf-8", errors="replace")
        finally:
            os.close(fd)
    except (OSError, SandboxError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
            why = "a symbolic link, not a regular file"
        raise EnvironmentBuildError(f"{what}: the build's {name}: {why}") from None


def _remove(path: Path) -> None:
    """Remove what the sandboxed build wrote (the repository's install may nest trees of any depth)."""
    if (why := remove_tree(path)) is not None:
        raise SandboxError(f"cannot remove {path}: {why}")


def _bootstrap_pip() -> tuple[Path, str]:
    """The harness's own pip (pure Python): it installs the environment's pip, then leaves."""
    import pip

    return Path(pip.__file__).resolve().parent, pip.__version__


def build_script(spec: EnvSpec, pip_version: str) -> str:
    """The shell script a build runs inside the sandbox (``set -e``: the first failure ends it)."""
    packages = list(spec.packages)
    if not any(p.lower().startswith("pip==") for p in packages):
        packages.insert(0, f"pip=={pip_version}")
    pin_pip = next(p for p in packages if p.lower().startswith("pip=="))
    lines = [
        "set -euxo pipefail",
        f"python3 -m venv --without-pip {VENV}",
        f"export VIRTUAL_ENV={VENV} PATH={VENV}/bin:{SYSTEM_PATH}",
        f"PYTHONPATH={BOOTSTRAP} python -m pip install {shlex.quote(pin_pip)}",
        "cd /testbed",
        *spec.pre_install,
        f"python -m pip install {' '.join(shlex.quote(p) for p in packages)}",
        *spec.install,
        f"python -c 'import platform; print(platform.python_version())' > {OUT}/python",
        f"python -m pip freeze --all > {OUT}/freeze.txt",
    ]
    return "\n".join(lines) + "\n"


def _run_build(spec: EnvSpec, rootfs: Path, tmp: Path, timeout: float) -> None:
    _, pip_version = _bootstrap_pip()
    what = f"environment {spec.name}"
    run_in_buildbox(what, build_script(spec, pip_version), rootfs, tmp, timeout, spec.env, spec.build_key())
    try:
        buildbox.take_back(tmp / "venv")
    except OSError as exc:
        raise EnvironmentBuildError(f"{what}: cannot take back its venv: {exc}") from None


def run_in_buildbox(
    what: str, script: str, rootfs: Path, tmp: Path, timeout: float, env: dict[str, str], cache_key: str
) -> None:
    """Run ``script`` in the build sandbox over ``tmp`` (its ``venv``, ``out``, ``home``, ``testbed``).

    ``cache_key`` names pip's download cache: one per environment (root's folder holds them), so no
    build can plant a wheel or an index page that another environment's build would install.
    """
    if shutil.which("bwrap") is None:
        raise EnvironmentUnavailable("building environments needs bubblewrap (apt-get install bubblewrap)")
    user = buildbox.build_user()
    pip_dir, _ = _bootstrap_pip()
    conf = read_pip_config()
    binds = buildbox.host_binds(rootfs, conf.paths)
    sources = buildbox.readable_sources((*conf.paths, str(pip_dir)), tmp, user)
    (tmp / "out" / "pip.conf").write_text(buildbox.rewrite(conf.text, binds))
    env = {
        **{k: buildbox.rewrite(v, binds) for k, v in conf.variables.items()},
        "PIP_CONFIG_FILE": f"{OUT}/pip.conf",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_PROGRESS_BAR": "off",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PATH": SYSTEM_PATH,
        **env,
    }
    pip_cache = tmp.parent / "pip-caches" / cache_key
    pip_cache.mkdir(parents=True, exist_ok=True)
    (tmp / "out" / "build.sh").write_text(script)
    buildbox.hand_over(tmp, pip_cache, user)
    pairs = [(sources[host], inside) for host, inside in binds.items()]
    argv = buildbox.build_argv(rootfs, tmp, Path(sources[str(pip_dir)]), pairs, pip_cache, user)
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += ["bash", f"{OUT}/build.sh"]
    log = tmp / "build.log"
    with open(log, "wb") as handle:
        try:
            proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EnvironmentBuildError(f"{what}: build timed out after {timeout:g}s") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise EnvironmentBuildError(f"{what}: build failed (exit {proc.returncode}):\n{tail}")


def resolve_in_buildbox(
    tree: Path, requirements: list[str], name: str, *, cache_root: Path | None = None, timeout: float = 900
) -> dict:
    """pip's install report (``--dry-run --report``) for ``tree`` plus ``requirements``, made in the
    build sandbox: resolving a source tree runs its build backend, which must never run on the host."""
    rootfs = base_rootfs(cache_root=cache_root)  # the default base image
    root = environments_root(cache_root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".resolve-", dir=root))
    try:
        for sub in ("venv", "out", "home"):
            (tmp / sub).mkdir()
        shutil.copytree(tree, tmp / "testbed", symlinks=True, ignore=shutil.ignore_patterns(".git"))
        _, pip_version = _bootstrap_pip()
        wanted = " ".join(shlex.quote(r) for r in ["/testbed", *requirements])
        script = "\n".join(
            [
                "set -euo pipefail",
                f"python3 -m venv --without-pip {VENV}",
                f"export VIRTUAL_ENV={VENV} PATH={VENV}/bin:{SYSTEM_PATH}",
                f"PYTHONPATH={BOOTSTRAP} python -m pip install -q {shlex.quote(f'pip=={pip_version}')}",
                "python -m pip install --dry-run --ignore-installed --quiet "
                f"--report {OUT}/report.json {wanted}",
            ]
        )
        cache_key = "resolve-" + hashlib.sha256(name.encode()).hexdigest()[:16]
        what = f"resolving {name}"
        run_in_buildbox(what, script + "\n", rootfs, tmp, timeout, {}, cache_key)
        return json.loads(_read_output(what, tmp / "out", "report.json", REPORT_LIMIT))
    finally:
        remove_tree(tmp)
