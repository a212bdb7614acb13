"""A repository's build is an adversary too: its ``setup.py``, build backend or install commands run
code during ``swe-srl envs build`` / ``tasks validate``. Each test is an attack such a build tried
(through the build's own install commands, as a malicious sdist would) and what the harness does.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import threading
from pathlib import Path

import pytest

from swe_srl.environments.build import EnvironmentBuildError, build_environment, environments_root
from swe_srl.environments.spec import EnvSpec, read_environments
from swe_srl.tasks.suites import envs_root

ENV = "inflection-0.5.1"
OUT = "/run/swe-srl/out"
VENV = "/opt/swe-srl/venv"


def _spec(tmp_path: Path, name: str, **changes) -> EnvSpec:
    """The real inflection environment of envs/pypi, with ``changes`` (a different build key)."""
    suite = tmp_path / name
    shutil.copytree(envs_root() / "pypi" / "repos" / ENV, suite / "repos" / ENV)
    row = next(
        json.loads(line)
        for line in (envs_root() / "pypi" / "environments.jsonl").read_text().splitlines()
        if json.loads(line)["name"] == ENV
    )
    (suite / "environments.jsonl").write_text(json.dumps({**row, **changes}) + "\n")
    return read_environments(suite / "environments.jsonl")[ENV]


@pytest.fixture
def built_paths():
    """Environments the test built: removed from the shared cache afterwards."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _build(spec: EnvSpec, built_paths: list[Path], timeout: float = 300):
    """Build in a thread: a host that blocks on the build's output must not hang the test run."""
    result: dict = {}
    built_paths.append(environments_root() / "pip-caches" / spec.build_key())

    def target():
        try:
            result["built"] = build_environment(spec, force=True)
            built_paths.append(result["built"].path)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the host hung reading what the build left"
    return result


def _shim(body: str) -> list[str]:
    """Install commands that replace the venv's ``python`` (the build's last two lines run it)."""
    return [
        "python -m pip install --no-deps -e .",
        f"rm -f {VENV}/bin/python",
        f"printf '%s\\n' '#!/bin/sh' {shlex.quote(body)} > {VENV}/bin/python",
        f"chmod 755 {VENV}/bin/python",
    ]


@pytest.mark.slow
def test_build_output_symlink_reads_host_file(tmp_path, built_paths):
    secret_dir = tmp_path / "root-only"
    secret_dir.mkdir(mode=0o700)
    secret = f"host-secret-{secrets.token_hex(8)}"
    (secret_dir / "secret").write_text(secret + "\n")
    (secret_dir / "secret").chmod(0o600)
    link = f"ln -sfn {secret_dir / 'secret'}"
    plant = f"rm -f {OUT}/python {OUT}/freeze.txt; {link} {OUT}/python; {link} {OUT}/freeze.txt"
    body = f'case "$*" in *freeze*) {plant};; esac'  # after bash opened freeze.txt for the output
    result = _build(_spec(tmp_path, "suite", install=_shim(body)), built_paths)
    if "built" in result:
        meta = (result["built"].path / "environment.json").read_text()
        assert secret not in meta
    else:
        assert isinstance(result["error"], EnvironmentBuildError), result["error"]
        assert secret not in str(result["error"])
        assert "not a regular file" in str(result["error"])


@pytest.mark.slow
def test_build_output_fifo_hangs_the_host(tmp_path, built_paths):
    body = f"rm -f {OUT}/python; mkfifo {OUT}/python"
    result = _build(_spec(tmp_path, "suite", install=_shim(body)), built_paths, timeout=120)
    assert isinstance(result.get("error"), EnvironmentBuildError), result
    assert "not a regular file" in str(result["error"])


@pytest.mark.slow
def test_build_plants_in_shared_pip_cache(tmp_path, built_paths):
    """One environment's build cannot leave anything in the pip cache another environment's build uses
    (a planted wheel or HTTP cache entry would be installed there instead of the index's)."""
    mark = f"planted-{secrets.token_hex(6)}"
    install = ["python -m pip install --no-deps -e .", f"touch /root/.cache/pip/{mark}"]
    first = _spec(tmp_path, "first", install=install)
    assert "built" in _build(first, built_paths)
    probe = f"test -e /root/.cache/pip/{mark} && echo POISON-SEEN || echo cache-clean"
    second = _spec(tmp_path, "second", pre_install=[probe])
    assert first.build_key() != second.build_key()
    built = _build(second, built_paths)["built"]
    log = (built.path / "build.log").read_text()
    assert "cache-clean" in log and "POISON-SEEN" not in log, log[:3000]


@pytest.mark.slow
def test_deep_tree_in_built_venv_crashes_the_build(tmp_path, built_paths):
    """A tree deeper than Python's recursion limit in the venv: a clear build error, not RecursionError."""
    deep = f"cd {VENV} && for i in $(seq 1500); do mkdir d && cd d; done"
    install = ["python -m pip install --no-deps -e .", deep]
    result = _build(_spec(tmp_path, "suite", install=install), built_paths)
    if "error" in result:
        assert isinstance(result["error"], EnvironmentBuildError), repr(result["error"])
    else:
        assert result["built"].venv.is_dir()
