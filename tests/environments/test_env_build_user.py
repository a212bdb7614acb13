"""Environment builds never run as host root: bubblewrap as the unprivileged sandbox account, with the
network for the package index only, and the built environment handed back to root before it is cached."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from swe_srl.environments.build import build_environment
from swe_srl.environments.buildbox import readable_by, readable_sources
from swe_srl.environments.spec import read_environments
from swe_srl.sandbox.identity import sandbox_user
from swe_srl.tasks.suites import envs_root

ENV = "inflection-0.5.1"
PROBES = [
    "echo host-root-files-owned-by: $(stat -c %u /etc/passwd)",
    "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status",
    "touch /usr/swe-srl-probe 2>/dev/null && echo usr-writable || echo usr-read-only",
    "unshare -U true 2>/dev/null && echo nested-userns || echo no-nested-userns",
]


@pytest.mark.slow
def test_build_runs_as_the_sandbox_account_and_the_result_is_roots(tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(envs_root() / "pypi" / "repos" / ENV, suite / "repos" / ENV)
    row = next(
        json.loads(line)
        for line in (envs_root() / "pypi" / "environments.jsonl").read_text().splitlines()
        if json.loads(line)["name"] == ENV
    )
    (suite / "environments.jsonl").write_text(json.dumps({**row, "pre_install": PROBES}) + "\n")
    spec = read_environments(suite / "environments.jsonl")[ENV]
    built = build_environment(spec)
    try:
        log = (built.path / "build.log").read_text()
        # Host root's files show as the overflow uid: only the unprivileged account is mapped inside.
        overflow = Path("/proc/sys/kernel/overflowuid").read_text().strip()
        assert f"host-root-files-owned-by: {overflow}" in log
        assert "CapEff:\t0000000000000000" in log and "CapBnd:\t0000000000000000" in log
        assert "usr-read-only" in log and "no-nested-userns" in log
        assert "Successfully installed" in log  # pip reached the package index (or its cache)
        for path in [built.venv, *built.venv.rglob("*")]:
            st = path.lstat()
            if os.geteuid() == 0:
                assert st.st_uid == 0, path
            assert path.is_symlink() or not st.st_mode & 0o022, path
    finally:
        shutil.rmtree(built.path, ignore_errors=True)


def test_files_the_account_cannot_read_are_copied_for_the_build():
    user = sandbox_user()
    if user is None:
        pytest.skip("runs unprivileged: the build is the caller's and reads what it can")
    tmp_path = Path(tempfile.mkdtemp(prefix="swe-srl-test-"))  # pytest's own folder is root's alone
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "ca.pem").write_text("certificate\n")
    public = tmp_path / "public.conf"
    public.write_text("x\n")
    public.chmod(0o644)
    os.chmod(tmp_path, 0o755)
    build = tmp_path / "build"
    build.mkdir()
    sources = readable_sources((str(private / "ca.pem"), str(public)), build, user)
    assert sources[str(public)] == str(public)
    copy = sources[str(private / "ca.pem")]
    assert copy.startswith(str(build)) and Path(copy).read_text() == "certificate\n"
    assert not readable_by(user, str(private / "ca.pem")) and readable_by(user, copy)
    shutil.rmtree(tmp_path)
